import { ProductImportError } from 'src/merchant/merchant.errors';
import { parseCsv, productsToImport } from 'src/merchant/product-import';

async function problems(body: unknown): Promise<string[]> {
  try {
    await productsToImport(body);
  } catch (error) {
    if (error instanceof ProductImportError) return error.problems;
    throw error;
  }
  throw new Error('the import was accepted');
}

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, separators and line breaks inside quotes', () => {
    expect(parseCsv('a,b,c\n"x, y","say ""hi""","line 1\nline 2"\n')).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'line 1\nline 2'],
    ]);
  });

  it('accepts CRLF, a BOM, blank lines, a missing final newline and empty cells', () => {
    expect(parseCsv('\uFEFFa,b\r\n\r\n1,\r\n,2')).toEqual([
      ['a', 'b'],
      ['1', ''],
      ['', '2'],
    ]);
  });

  it('refuses a quote that is never closed', () => {
    expect(() => parseCsv('a\n"open')).toThrow(/not closed/);
  });
});

describe('productsToImport', () => {
  it('converts CSV cells and matches columns whatever their case or underscores', async () => {
    const products = await productsToImport(
      'SKU,Name,PRICE,in_stock,image-url,currency\nA-1,قميص,25000,لا,https://x.example/a.png,\n',
    );
    expect(products).toEqual([
      expect.objectContaining({
        sku: 'A-1',
        name: 'قميص',
        price: 25000,
        inStock: false,
        imageUrl: 'https://x.example/a.png',
      }),
    ]);
    expect(products[0].currency).toBeUndefined();
  });

  it('numbers rows from 1 (the first product) in both formats', async () => {
    expect(
      await problems([
        { sku: 'A', name: 'a', price: 1 },
        { sku: 'B', name: 'b' },
      ]),
    ).toEqual(['row 2: price must be an integer number']);
    expect(await problems('sku,name,price\nA,a,1\nB,b,x\n')).toEqual([
      'row 2: price must be an integer number',
    ]);
  });

  it('reports repeated skus and caps a long list of problems', async () => {
    expect(
      await problems([
        { sku: 'A', name: 'a', price: 1 },
        { sku: 'A', name: 'b', price: 2 },
      ]),
    ).toEqual(['row 2: sku "A" repeats row 1']);
    const many = await problems(
      Array.from({ length: 80 }, () => ({ sku: '', name: 'x', price: 1 })),
    );
    expect(many).toHaveLength(51);
    expect(many[50]).toBe('and 30 more problems');
  });

  it('refuses more than 5000 rows and no rows at all', async () => {
    expect(await problems([])).toEqual(['there are no rows to import']);
    expect(await problems('sku,name,price\n')).toEqual(['there are no rows to import']);
    const rows = Array.from({ length: 5001 }, (_, i) => ({ sku: `S${i}`, name: 'x', price: 1 }));
    expect((await problems(rows))[0]).toMatch(/at most 5000 rows; this one has 5001/);
  });
});
