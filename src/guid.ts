/** The form of every id Azure mints: object, application, tenant, subscription and role ids (case-insensitive). */
export const GUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const GUID = new RegExp(`^${GUID_SOURCE}$`, 'i');
