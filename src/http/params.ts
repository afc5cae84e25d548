// Small value parsers shared by every route that reads query parameters or path segments.
import { BadRequest } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return text.length === 36 && UUID.test(text);
}

/**
 * Decimal digits only, from 1 to `max`. Accumulating digit by digit and stopping past `max` means a
 * 400-digit value is rejected as out of range instead of becoming Infinity or losing precision.
 */
export function parsePositiveInteger(name: string, text: string, max: number): number {
  let value = 0;
  for (let i = 0; i < text.length && value <= max; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) value = Infinity;
    else value = value * 10 + digit;
  }
  if (!(value >= 1 && value <= max)) {
    throw new BadRequest('invalid_parameter', `${name} must be an integer from 1 to ${max}`, name);
  }
  return value;
}
