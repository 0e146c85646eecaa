import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { limitMessages, validationMessages } from 'src/common/validation';
import { CreateProductDto } from 'src/merchant/dto/product.dto';
import { ProductImportError } from 'src/merchant/merchant.errors';

export const MAX_IMPORT_ROWS = 5000;

/** CSV columns, by the name they are matched on (case, `_` and `-` ignored). */
const CSV_COLUMNS: Record<string, keyof CreateProductDto> = {
  sku: 'sku',
  name: 'name',
  description: 'description',
  price: 'price',
  currency: 'currency',
  instock: 'inStock',
  imageurl: 'imageUrl',
};
const REQUIRED_COLUMNS: Array<keyof CreateProductDto> = ['sku', 'name', 'price'];
const TRUE_WORDS = new Set(['true', 'yes', '1', 'y', 'نعم']);
const FALSE_WORDS = new Set(['false', 'no', '0', 'n', 'لا']);

/**
 * The rows of an import body: a JSON array of products, or CSV text with a header row
 * (`sku,name,description,price,currency,inStock,imageUrl`; sku, name and price are required).
 * Rows are numbered from 1, the first product (the header of a CSV is not a row). Every problem
 * is collected and reported together; nothing is returned unless every row is valid.
 */
export async function productsToImport(body: unknown): Promise<CreateProductDto[]> {
  const { records, rowProblems } =
    typeof body === 'string'
      ? csvRecords(body)
      : { records: jsonRecords(body), rowProblems: new Map<number, string>() };
  if (records.length === 0) throw new ProductImportError(['there are no rows to import']);
  if (records.length > MAX_IMPORT_ROWS) {
    throw new ProductImportError([
      `an import holds at most ${MAX_IMPORT_ROWS} rows; this one has ${records.length}`,
    ]);
  }
  const problems: string[] = [];
  const products: CreateProductDto[] = [];
  const rowOfSku = new Map<string, number>();
  for (const [index, record] of records.entries()) {
    const row = index + 1;
    const structural = rowProblems.get(row);
    if (structural !== undefined) {
      problems.push(`row ${row}: ${structural}`);
      continue;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      problems.push(`row ${row}: must be an object`);
      continue;
    }
    const product = plainToInstance(CreateProductDto, record);
    const errors = await validate(product, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
    });
    if (errors.length > 0) {
      problems.push(...validationMessages(errors).map((message) => `row ${row}: ${message}`));
      continue;
    }
    const first = rowOfSku.get(product.sku);
    if (first !== undefined) {
      problems.push(`row ${row}: sku ${JSON.stringify(product.sku)} repeats row ${first}`);
      continue;
    }
    rowOfSku.set(product.sku, row);
    products.push(product);
  }
  if (problems.length > 0) throw new ProductImportError(limitMessages(problems));
  return products;
}

function jsonRecords(body: unknown): unknown[] {
  if (!Array.isArray(body)) {
    throw new ProductImportError([
      'the body must be a JSON array of products (application/json) or CSV (text/csv)',
    ]);
  }
  return body;
}

/**
 * CSV rows as objects of the DTO's fields; cells are converted where the field needs it. A row
 * whose number of cells differs from the header's is reported in `rowProblems` (by row number).
 */
function csvRecords(text: string): {
  records: Array<Record<string, unknown>>;
  rowProblems: Map<number, string>;
} {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) return { records: [], rowProblems: new Map() };
  const problems: string[] = [];
  const fields = header.map((name) => {
    const field = CSV_COLUMNS[name.trim().toLowerCase().replace(/[_-]/g, '')];
    if (field === undefined) {
      problems.push(
        `unknown column ${JSON.stringify(name)} (columns: ${Object.values(CSV_COLUMNS).join(', ')})`,
      );
    }
    return field;
  });
  for (const required of REQUIRED_COLUMNS) {
    if (!fields.includes(required)) problems.push(`the header has no ${required} column`);
  }
  const repeated = fields.filter((field, index) => field && fields.indexOf(field) !== index);
  for (const field of new Set(repeated)) problems.push(`the header repeats column ${field}`);
  if (problems.length > 0) throw new ProductImportError(problems);

  const rowProblems = new Map<number, string>();
  const records = rows.map((cells, index) => {
    if (cells.length !== fields.length) {
      rowProblems.set(index + 1, `has ${cells.length} cells, the header has ${fields.length}`);
    }
    const record: Record<string, unknown> = {};
    fields.forEach((field, column) => {
      const cell = cells[column];
      if (field === undefined || cell === undefined || cell.trim() === '') return;
      record[field] = cellValue(field, cell);
    });
    return record;
  });
  return { records, rowProblems };
}

function cellValue(field: keyof CreateProductDto, cell: string): unknown {
  const value = cell.trim();
  if (field === 'price') return /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  if (field === 'inStock') {
    const word = value.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return value;
  }
  return field === 'sku' ? cell : value;
}

/**
 * RFC 4180 CSV: fields separated by commas, quoted with `"` (a doubled `""` inside quotes is one
 * quote), records ended by CRLF or LF; a byte-order mark and blank lines are ignored.
 */
export function parseCsv(text: string): string[][] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const endRecord = () => {
    record.push(field);
    if (!(record.length === 1 && record[0] === '' && !fieldStarted)) records.push(record);
    record = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < input.length; i++) {
    const char = input[i];
    if (quoted) {
      if (char === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (char === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && input[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += char;
      fieldStarted = true;
    }
  }
  if (quoted) {
    const where = records.length === 0 ? 'the header' : `row ${records.length}`;
    throw new ProductImportError([`a quoted field in ${where} is not closed`]);
  }
  if (field !== '' || record.length > 0 || fieldStarted) endRecord();
  return records;
}
