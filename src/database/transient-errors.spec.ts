import { isTransientStorageError } from 'src/database/transient-errors';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isTransientStorageError', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a server shutting down (57P01)', withCode('57P01')],
    ['a connection failure (08006)', withCode('08006')],
    ['too many connections (53300)', withCode('53300')],
    ['a deadlock (40P01)', withCode('40P01')],
    ['a failover in progress (25006)', withCode('25006')],
    [
      'a pg error wrapped by TypeORM',
      Object.assign(new Error('q'), { driverError: withCode('57P03') }),
    ],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['the pool waiting in vain', new Error('timeout exceeded when trying to connect')],
    ['Redis away', new Error('Connection is closed.')],
    [
      'Redis away, no offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    [
      'a database closed to connections (55000)',
      withCode('55000', 'database "radd" is not currently accepting connections'),
    ],
  ])('takes %s for the storage being away', (_, error) => {
    expect(isTransientStorageError(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505')],
    ['a bad value (22P02)', withCode('22P02')],
    ['another object state error (55000)', withCode('55000', 'currval is not yet defined')],
    ['a parse error', new SyntaxError('Unexpected token } in JSON')],
    ['an error of the work', new Error('the merchant no longer exists')],
  ])('takes %s for the work failing', (_, error) => {
    expect(isTransientStorageError(error)).toBe(false);
  });
});
