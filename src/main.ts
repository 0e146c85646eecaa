import 'reflect-metadata';
import { createApp, listen } from 'src/bootstrap';
import { ConfigValidationError } from 'src/config/env';

async function main(): Promise<void> {
  const app = await createApp();
  await listen(app);
}

main().catch((error: unknown) => {
  // The logger may not exist yet: say why on stderr, in one line, and stop.
  const reason = error instanceof ConfigValidationError ? error.message : error;
  process.stderr.write(
    `${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
  );
  process.exit(1);
});
