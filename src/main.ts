import 'reflect-metadata';
import { createApp, listen } from 'src/bootstrap';
import { ConfigValidationError, readEnvironment } from 'src/config/env';
import { sandboxSecretsIn } from 'src/sandbox/settings';

/** Production start (`node dist/main.js`): the role comes from APP_ROLE. */
async function main(): Promise<void> {
  const env = readEnvironment();
  const sandbox = sandboxSecretsIn(env);
  if (sandbox.length > 0) {
    throw new ConfigValidationError(
      [],
      [
        `${sandbox.join(', ')} ${sandbox.length === 1 ? 'holds its' : 'hold their'} public sandbox value; set secrets of your own`,
      ],
    );
  }
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
