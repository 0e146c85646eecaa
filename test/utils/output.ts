import fs from 'node:fs';

/**
 * Everything written to stdout and stderr while capturing (pino writes with fs.write/writeSync on
 * fds 1 and 2); other file descriptors are written as usual.
 */
export function captureOutput(): { text: () => string; stop: () => void } {
  const chunks: string[] = [];
  const writeSync = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
  const write = fs.write.bind(fs) as (...args: unknown[]) => void;
  const toText = (data: unknown) =>
    typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString();
  const spies = [
    jest
      .spyOn(fs, 'writeSync')
      .mockImplementation((fd: number, data: unknown, ...rest: unknown[]) => {
        if (fd !== 1 && fd !== 2) return writeSync(fd, data, ...rest);
        const text = toText(data);
        chunks.push(text);
        return Buffer.byteLength(text);
      }),
    jest.spyOn(fs, 'write').mockImplementation((fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd !== 1 && fd !== 2) {
        write(fd, data, ...rest);
        return;
      }
      const text = toText(data);
      chunks.push(text);
      const done = rest.find((arg) => typeof arg === 'function') as
        ((error: null, written: number) => void) | undefined;
      done?.(null, Buffer.byteLength(text));
    }),
    jest.spyOn(process.stdout, 'write').mockImplementation((data: string | Uint8Array) => {
      chunks.push(toText(data));
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation((data: string | Uint8Array) => {
      chunks.push(toText(data));
      return true;
    }),
  ];
  return { text: () => chunks.join(''), stop: () => spies.forEach((spy) => spy.mockRestore()) };
}
