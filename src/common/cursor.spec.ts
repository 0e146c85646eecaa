import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  ISO_MICROS,
  pageOf,
} from 'src/common/cursor';

const ID = '0b7c3d5e-9f1a-4c2b-8d3e-5f6a7b8c9d0e';

describe('cursors', () => {
  it('round-trips a sort key and an id, and is opaque base64url', () => {
    const cursor = encodeCursor('2026-01-02T03:04:05.123456Z', ID);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ISO_MICROS)).toEqual({
      key: '2026-01-02T03:04:05.123456Z',
      id: ID,
    });
    expect(decodeCursor(encodeCursor(null, ID), ISO_MICROS)).toEqual({ key: null, id: ID });
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['a JSON object', Buffer.from('{"a":1}').toString('base64url')],
    ['an id that is not a UUID', encodeCursor('x', '1; DROP TABLE merchants')],
    ['a key of the wrong form', encodeCursor('yesterday', ID)],
  ])('refuses %s', (_what, cursor) => {
    expect(() => decodeCursor(cursor, ISO_MICROS)).toThrow(InvalidCursorError);
  });

  it('makes a page from limit + 1 rows', () => {
    const rows = [1, 2, 3].map((n) => ({ n, id: ID }));
    expect(
      pageOf(
        rows,
        2,
        (row) => row.n,
        (row) => `c${row.n}`,
      ),
    ).toEqual({ items: [1, 2], nextCursor: 'c2' });
    expect(
      pageOf(
        rows,
        3,
        (row) => row.n,
        (row) => `c${row.n}`,
      ),
    ).toEqual({ items: [1, 2, 3], nextCursor: null });
  });
});
