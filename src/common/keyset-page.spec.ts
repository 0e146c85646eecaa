import { FIRST_PAGE, pageAfter } from 'src/common/keyset-page';

describe('pageAfter', () => {
  const rows = [
    { at: '2026-12-05 10:00:00.000001+00', id: '00000000-0000-4000-8000-000000000001' },
    { at: '2026-12-05 10:00:00.000001+00', id: '00000000-0000-4000-8000-000000000002' },
  ];

  it('starts the next page after the last row of a full page', () => {
    expect(pageAfter(rows, 2)).toEqual(rows[1]);
  });

  it('goes back to the first page after a short or empty one', () => {
    expect(pageAfter(rows, 3)).toBe(FIRST_PAGE);
    expect(pageAfter([], 2)).toBe(FIRST_PAGE);
  });
});
