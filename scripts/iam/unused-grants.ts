/**
 * Grants no recorded scenario uses, each with the reason it stays. `npm run verify:iam` fails on an
 * unused grant or interface endpoint missing here, and on an entry here that no longer matches
 * anything (so the file cannot rot). Keys: `<principal> | <action> | <resource as the template
 * writes it>`; for endpoints: `endpoint | <service>`.
 */
export const UNUSED_GRANT_ACKNOWLEDGEMENTS: Readonly<Record<string, string>> = {};
