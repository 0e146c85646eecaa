import { StatementNames } from 'src/database/prepared-statements';

describe('StatementNames', () => {
  it('names a text the second time it is seen, and keeps that name', () => {
    const names = new StatementNames(10);
    const text = 'SELECT 1 WHERE $1::int > 0';
    expect(names.nameOf(text)).toBeUndefined();
    const name = names.nameOf(text);
    expect(name).toBe('radd_1');
    expect(names.nameOf(text)).toBe(name);
  });

  it('gives different texts different names', () => {
    const names = new StatementNames(10);
    for (const text of ['a $1', 'b $1', 'a $1', 'b $1']) names.nameOf(text);
    expect(names.nameOf('a $1')).toBe('radd_1');
    expect(names.nameOf('b $1')).toBe('radd_2');
  });

  it('stops naming new texts at its limit, but keeps the names it gave', () => {
    const names = new StatementNames(2);
    for (const text of ['a', 'b', 'c']) {
      names.nameOf(text);
      names.nameOf(text);
    }
    expect(names.size).toBe(2);
    expect(names.nameOf('a')).toBe('radd_1');
    expect(names.nameOf('c')).toBeUndefined();
  });

  it('forgets one-off texts beyond a bound, so they cannot grow without end', () => {
    const names = new StatementNames(1);
    for (let i = 0; i < 100; i += 1) names.nameOf(`one-off ${i}`);
    // The bound is four times the limit: the fifth text was never remembered.
    expect(names.nameOf('one-off 4')).toBeUndefined();
    expect(names.nameOf('one-off 0')).toBe('radd_1');
  });
});
