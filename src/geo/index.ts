export { clientAddress, type TrustedProxies, trustedProxies } from './client-ip.js';
export { defaultDatabasePaths, GeoLocator, type GeoLocatorOptions, toLocation } from './locator.js';
export { subdivisionCode } from './subdivisions.js';
