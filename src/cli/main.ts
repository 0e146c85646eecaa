import 'reflect-metadata';
import { CliUsageError, runCli, USAGE } from 'src/cli/cli';
import { ConfigValidationError } from 'src/config/env';

/** `npm run cli -- <command>`: operator commands (see USAGE). */
runCli(process.argv.slice(2), (text) => process.stdout.write(text)).catch((error: unknown) => {
  if (error instanceof CliUsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const message =
    error instanceof ConfigValidationError || error instanceof Error
      ? error.message
      : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
