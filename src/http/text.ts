// Measures user-supplied text the way PostgreSQL will store it: length in code points (an emoji is
// one), and refusal of control characters (PostgreSQL rejects U+0000 in text) and lone surrogates
// (UTF-8 encoding would silently turn them into U+FFFD, so what is stored would not be what was sent).
export type TextProblem = 'control' | 'surrogate';

export function measureText(value: string): number | TextProblem {
  let count = 0;
  for (let i = 0; i < value.length; i++, count++) {
    const unit = value.charCodeAt(i);
    if (unit <= 0x1f || unit === 0x7f) return 'control';
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return 'surrogate';
      i++;
    }
  }
  return count;
}

export const TEXT_PROBLEM_MESSAGES: Readonly<Record<TextProblem, string>> = {
  control: 'must not contain control characters (U+0000 to U+001F, U+007F)',
  surrogate: 'must be valid Unicode text',
};
