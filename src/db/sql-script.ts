// Splits a migration script into its statements, so that each is sent on its own. Citus, asked to run
// DDL in a distributed schema (a schema tenant's CREATE TABLE), forwards the text it was sent to the
// node, and a text of several statements is refused there ("cannot insert multiple commands into a
// prepared statement"). Our scripts use strings, quoted identifiers, comments and dollar quoting; a
// semicolon inside any of them does not end a statement.

export function splitSqlScript(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i] as string;
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      // PostgreSQL's block comments nest.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (script[i] === '/' && script[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (script[i] === '*' && script[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw new SyntaxError('unterminated block comment in SQL script');
    } else if (c === "'" || c === '"') {
      // A doubled quote is part of the string (E'' strings' backslash escapes are not used in our scripts).
      i++;
      for (;;) {
        const end = script.indexOf(c, i);
        if (end === -1) throw new SyntaxError(`unterminated ${c === "'" ? 'string' : 'quoted identifier'} in SQL script`);
        if (script[end + 1] === c) {
          i = end + 2;
          continue;
        }
        i = end + 1;
        break;
      }
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(script[i - 1] ?? ' ')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        if (end === -1) throw new SyntaxError(`unterminated dollar quote ${tag[0]} in SQL script`);
        i = end + tag[0].length;
      } else i++;
    } else if (c === ';') {
      push(statements, script.slice(start, i));
      start = ++i;
    } else i++;
  }
  push(statements, script.slice(start));
  return statements;
}

function push(statements: string[], text: string): void {
  if (withoutComments(text).trim() !== '') statements.push(text.trim());
}

function withoutComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}
