import { scanSync } from 'libpg-query';

export { CANONICAL_FORMAT_VERSION } from './format.js';

const ASCII_UPPER = /[A-Z]+/g;

function foldAscii(text: string): string {
  return text.replace(ASCII_UPPER, (letters) => letters.toLowerCase());
}

/**
 * The canonical form of one statement: PostgreSQL's own token stream with
 * comments and whitespace dropped, keywords lower-cased and unquoted
 * identifiers folded as the server folds them (ASCII A-Z only), while
 * literals, quoted identifiers, numbers and operators stay byte for byte.
 * Each token is written as `category:length:text`, so token boundaries are
 * part of the form (`a b` differs from `ab`). Call after loadModule().
 */
export function canonicalize(sql: string): string {
  const out: string[] = [];
  for (const token of scanSync(sql).tokens) {
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') continue;
    let category: string;
    let text = token.text;
    if (token.keywordKind !== 0) {
      category = 'kw';
      text = foldAscii(text);
    } else if (token.tokenName === 'IDENT') {
      category = 'id';
      if (!text.startsWith('"')) text = foldAscii(text);
    } else {
      category = token.tokenName === 'UNKNOWN' ? `t${token.tokenType}` : token.tokenName;
    }
    out.push(`${category}:${Buffer.byteLength(text, 'utf8')}:${text}`);
  }
  return out.join('\n');
}
