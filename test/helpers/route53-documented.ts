// Constraints the SDK package does not carry (its schemas keep no length,
// range or pattern traits), written by hand from AWS's Route 53 API reference
// (docs.aws.amazon.com/Route53/latest/APIReference/API_<Shape>.html, "Length
// Constraints", "Valid Range", "Valid Values"). `type` is the XSD type name
// Route 53 names in its error message.

export interface Documented {
  type: string;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  /** Enums the package does not declare. */
  values?: string[];
}

const resourceId: Documented = { type: 'ResourceId', maxLength: 32 };
const dnsName: Documented = { type: 'DNSName', maxLength: 1024 };
const setIdentifier: Documented = { type: 'ResourceRecordSetIdentifier', minLength: 1, maxLength: 128 };

/** "Struct.Member" -> its documented constraint. */
export const DOCUMENTED = new Map<string, Documented>([
  ['ChangeResourceRecordSetsRequest.HostedZoneId', resourceId],
  ['ListResourceRecordSetsRequest.HostedZoneId', resourceId],
  ['ListResourceRecordSetsRequest.StartRecordName', dnsName],
  ['ListResourceRecordSetsRequest.StartRecordIdentifier', setIdentifier],
  ['GetHostedZoneRequest.Id', resourceId],
  ['GetChangeRequest.Id', { type: 'ChangeId', maxLength: 6500 }],
  ['ChangeBatch.Comment', { type: 'ResourceDescription', maxLength: 256 }],
  ['ChangeBatch.Changes', { type: 'Changes', minLength: 1 }],
  ['ResourceRecordSet.Name', dnsName],
  ['ResourceRecordSet.SetIdentifier', setIdentifier],
  ['ResourceRecordSet.Weight', { type: 'ResourceRecordSetWeight', min: 0, max: 255 }],
  ['ResourceRecordSet.TTL', { type: 'TTL', min: 0, max: 2147483647 }],
  ['ResourceRecordSet.ResourceRecords', { type: 'ResourceRecords', minLength: 1 }],
  ['ResourceRecordSet.HealthCheckId', { type: 'HealthCheckId', maxLength: 64 }],
  [
    'ResourceRecordSet.TrafficPolicyInstanceId',
    { type: 'TrafficPolicyInstanceId', minLength: 1, maxLength: 36 },
  ],
  ['ResourceRecord.Value', { type: 'RData', maxLength: 4000 }],
  [
    'GeoLocation.ContinentCode',
    {
      type: 'GeoLocationContinentCode',
      minLength: 2,
      maxLength: 2,
      values: ['AF', 'AN', 'AS', 'EU', 'OC', 'NA', 'SA'],
    },
  ],
  ['GeoLocation.CountryCode', { type: 'GeoLocationCountryCode', minLength: 1, maxLength: 2 }],
  ['GeoLocation.SubdivisionCode', { type: 'GeoLocationSubdivisionCode', minLength: 1, maxLength: 3 }],
  ['AliasTarget.HostedZoneId', resourceId],
  ['AliasTarget.DNSName', dnsName],
]);
