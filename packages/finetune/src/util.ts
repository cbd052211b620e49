export { EmptyInputError, InputNotFoundError, MalformedInputError } from '@pretext/core';

const collator = new Intl.Collator('en', { numeric: true });

/** Names in natural order (`2` before `10`), the same on every machine. */
export function naturalOrder(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
