// What each provider can express, apart from its code so that listing
// providers does not load the AWS SDK.
import { type Capabilities, RECORD_TYPES } from './model.js';

export const BUILTIN_CAPABILITIES: Capabilities = {
  steering: ['geo', 'weighted', 'plain'],
  types: [...RECORD_TYPES],
  geoCodes: 'country+subdivision',
  notes: "the reference: the record sets Meridian's own server answers with (held in memory)",
};

export const POWERDNS_CAPABILITIES: Capabilities = {
  steering: ['plain', 'weighted', 'geo'],
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'MX'],
  geoCodes: 'country+subdivision',
  notes:
    'HTTP API; geo and weighted as LUA records (enable-lua-records=yes; geo needs the geoip backend), plain as A/AAAA',
};

export const RFC2136_CAPABILITIES: Capabilities = {
  steering: ['plain'],
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'MX'],
  notes: 'dynamic update with TSIG (BIND 9, Knot); plain records for the current state, no geo',
};

export const ROUTE53_CAPABILITIES: Capabilities = {
  steering: ['geo', 'weighted', 'plain'],
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'MX'],
  geoCodes: 'country+us-subdivision',
  notes: 'AWS SDK v3; geolocation and weighted record sets, one change batch, waits for INSYNC',
};
