import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { splitSqlScript } from '../../src/db/sql-script.js';

describe('splitSqlScript', () => {
  it('splits at top-level semicolons only', () => {
    const script = `-- a comment; not a statement
CREATE TABLE a (x text DEFAULT 'a;b''c;');
/* block; /* nested; */ still; */ SELECT "we;ird" FROM a;
DO $$ BEGIN PERFORM 1; END $$;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
SELECT 2`;
    expect(splitSqlScript(script)).toEqual([
      "-- a comment; not a statement\nCREATE TABLE a (x text DEFAULT 'a;b''c;')",
      '/* block; /* nested; */ still; */ SELECT "we;ird" FROM a',
      'DO $$ BEGIN PERFORM 1; END $$',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$',
      'SELECT 2',
    ]);
  });

  it('drops empty and comment-only pieces', () => {
    expect(splitSqlScript(';;\n-- only a comment\n;  ')).toEqual([]);
  });

  it('does not take a positional parameter or an identifier with $ for a dollar quote', () => {
    expect(splitSqlScript('SELECT a$b$c; SELECT 1')).toEqual(['SELECT a$b$c', 'SELECT 1']);
  });

  it('refuses an unterminated string, identifier, comment or dollar quote', () => {
    for (const bad of ["SELECT 'x", 'SELECT "x', 'SELECT /* x', 'DO $$ BEGIN END']) {
      expect(() => splitSqlScript(bad)).toThrow(SyntaxError);
    }
  });

  it('splits every migration of this repository into statements that each still parse as whole pieces', async () => {
    for (const dir of ['sql', 'sql/tenant', 'sql/database']) {
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sql'))) {
        const text = await readFile(`${dir}/${file}`, 'utf8');
        const statements = splitSqlScript(text);
        expect(statements.length, file).toBeGreaterThan(0);
        // Nothing lost but the separators: the statements' characters appear in order in the script.
        let at = 0;
        for (const s of statements) {
          const found = text.indexOf(s, at);
          expect(found, `${file}: ${s.slice(0, 40)}`).toBeGreaterThanOrEqual(at);
          at = found + s.length;
        }
      }
    }
  });
});
