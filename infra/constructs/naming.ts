/** `billing` -> `Billing`, `fraud-check` -> `FraudCheck`: construct ids and output names from data. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
