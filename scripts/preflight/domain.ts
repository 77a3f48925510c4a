/**
 * Checks of the HTTPS name: the ACM certificate is issued, in the load balancer's region, and
 * covers the name; the hosted zone exists, is public, holds the name, and is the one the public
 * DNS delegates to (otherwise neither the alias record nor a DNS validation is ever seen).
 */
import { DescribeCertificateCommand, ResourceNotFoundException } from '@aws-sdk/client-acm';
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  NoSuchHostedZone,
  type HostedZone,
} from '@aws-sdk/client-route-53';
import { certificateCovers } from '../../infra/deploy-rules/rules';
import { failedCall } from './aws-errors';
import type { CheckResult, PreflightClients, PreflightTarget } from './types';

/** Looks up the name servers the public DNS names for a zone (node:dns `resolveNs` in the CLI). */
export type NameServerLookup = (zone: string) => Promise<string[]>;

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The region in an ACM certificate ARN. */
function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3];
}

/** The certificate is ISSUED, in the environment's region, and covers the domain. */
export async function checkCertificate(
  clients: Pick<PreflightClients, 'acm'>,
  target: PreflightTarget,
): Promise<CheckResult> {
  const check = 'certificate';
  const domain = target.domain;
  if (!domain) {
    return {
      check,
      status: 'skip',
      summary: `${target.environment} has no HTTPS name: no certificate to check`,
    };
  }
  if (!domain.certificateArn) {
    return {
      check,
      status: 'skip',
      summary: `the stack requests a DNS-validated certificate for ${domain.name} itself (the hosted-zone check covers its validation)`,
    };
  }
  const arn = domain.certificateArn;
  const certificateRegion = regionOfArn(arn);
  if (certificateRegion !== target.region) {
    return {
      check,
      status: 'fail',
      summary: `the certificate is in ${certificateRegion ?? 'no region'}; a load balancer in ${target.region} can only use a certificate of its own region`,
      fix: `request or import a certificate for ${domain.name} in ${target.region} and put its ARN in the configuration`,
    };
  }
  let certificate;
  try {
    certificate = (await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: arn })))
      .Certificate;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return {
        check,
        status: 'fail',
        summary: `no certificate ${arn} in this account`,
        fix: `request one for ${domain.name} in ACM (${target.region}) or correct the ARN in the configuration`,
      };
    }
    return failedCall(check, 'acm:DescribeCertificate', error);
  }
  // ACM lists the domain name among the subject alternative names as well.
  const names = [
    ...new Set(
      [certificate?.DomainName ?? '', ...(certificate?.SubjectAlternativeNames ?? [])].filter(Boolean),
    ),
  ];
  if (certificate?.Status !== 'ISSUED') {
    return {
      check,
      status: 'fail',
      summary: `certificate for ${names[0] ?? '?'} is ${certificate?.Status ?? 'in no status'}, not ISSUED`,
      fix:
        certificate?.Status === 'PENDING_VALIDATION'
          ? 'create the DNS validation CNAME records ACM lists for it (ACM console: "Create records in Route 53") and wait until it is ISSUED'
          : `request a new certificate for ${domain.name} and put its ARN in the configuration`,
    };
  }
  // A wildcard covers exactly one label (the deploy rules' reading of ACM's matching).
  if (!names.some((name) => certificateCovers(name, domain.name))) {
    return {
      check,
      status: 'fail',
      summary: `certificate names ${names.join(', ')}; none covers ${domain.name} (a wildcard covers one label only)`,
      fix: `request a certificate that names ${domain.name} (or *.${domain.name.split('.').slice(1).join('.')})`,
    };
  }
  return {
    check,
    status: 'pass',
    summary: `certificate ISSUED for ${names.join(', ')}, covers ${domain.name}${
      certificate.NotAfter ? `, valid until ${certificate.NotAfter.toISOString().slice(0, 10)}` : ''
    }`,
  };
}

async function findZone(
  clients: Pick<PreflightClients, 'route53'>,
  domain: NonNullable<PreflightTarget['domain']>,
): Promise<{ zone?: HostedZone; nameServers: string[] }> {
  if (domain.hostedZoneId) {
    try {
      const found = await clients.route53.send(new GetHostedZoneCommand({ Id: domain.hostedZoneId }));
      return { zone: found.HostedZone, nameServers: found.DelegationSet?.NameServers ?? [] };
    } catch (error) {
      if (error instanceof NoSuchHostedZone) return { nameServers: [] };
      throw error;
    }
  }
  const name = `${normalize(domain.hostedZoneName ?? '')}.`;
  const listed = await clients.route53.send(
    new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 10 }),
  );
  const zone = listed.HostedZones?.find(
    (candidate) => candidate.Name === name && !candidate.Config?.PrivateZone,
  );
  if (!zone?.Id) return { nameServers: [] };
  const found = await clients.route53.send(new GetHostedZoneCommand({ Id: zone.Id }));
  return { zone: found.HostedZone, nameServers: found.DelegationSet?.NameServers ?? [] };
}

/**
 * The hosted zone exists in this account, is public, contains the domain, and the public DNS
 * delegates the zone's name to its name servers.
 */
export async function checkHostedZone(
  clients: Pick<PreflightClients, 'route53'>,
  target: PreflightTarget,
  lookupNameServers: NameServerLookup | undefined,
): Promise<CheckResult> {
  const check = 'hosted-zone';
  const domain = target.domain;
  if (!domain) {
    return {
      check,
      status: 'skip',
      summary: `${target.environment} has no HTTPS name: no hosted zone to check`,
    };
  }
  const wanted = domain.hostedZoneId ?? domain.hostedZoneName;
  if (!wanted) {
    return {
      check,
      status: 'fail',
      summary: `the configuration names no hosted zone for ${domain.name}`,
      fix: `name the public hosted zone that holds ${domain.name} in the configuration of ${target.environment}`,
    };
  }
  let found;
  try {
    found = await findZone(clients, domain);
  } catch (error) {
    return failedCall(
      check,
      domain.hostedZoneId ? 'route53:GetHostedZone' : 'route53:ListHostedZonesByName',
      error,
    );
  }
  const zone = found.zone;
  if (!zone?.Name) {
    return {
      check,
      status: 'fail',
      summary: `no public hosted zone ${wanted} in this account`,
      fix: `create the public hosted zone (Route 53) and delegate it from the parent domain, or correct the configuration`,
    };
  }
  const zoneName = normalize(zone.Name);
  if (zone.Config?.PrivateZone) {
    return {
      check,
      status: 'fail',
      summary: `hosted zone ${zoneName} (${zone.Id}) is private: clients on the internet cannot resolve ${domain.name}`,
      fix: `use the public hosted zone of ${zoneName}`,
    };
  }
  const name = normalize(domain.name);
  if (name !== zoneName && !name.endsWith(`.${zoneName}`)) {
    return {
      check,
      status: 'fail',
      summary: `${domain.name} is not inside hosted zone ${zoneName}`,
      fix: `use a name under ${zoneName}, or the zone that holds ${domain.name}`,
    };
  }
  const undelegated = await delegation(zoneName, found.nameServers, lookupNameServers);
  if (undelegated) return { check, status: 'fail', ...undelegated };
  return {
    check,
    status: 'pass',
    summary: `public hosted zone ${zoneName} (${zone.Id}) holds ${domain.name}${lookupNameServers ? ' and is delegated to its name servers' : ''}`,
  };
}

async function delegation(
  zoneName: string,
  zoneServers: string[],
  lookup: NameServerLookup | undefined,
): Promise<{ summary: string; fix: string } | undefined> {
  if (!lookup || zoneServers.length === 0) return undefined;
  const fix = `set the name servers of ${zoneName} at its parent (registrar or parent zone) to ${zoneServers.join(', ')}`;
  let published: string[];
  try {
    published = (await lookup(zoneName)).map(normalize);
  } catch (error) {
    return {
      summary: `the public DNS has no name servers for ${zoneName} (${(error as Error).message})`,
      fix,
    };
  }
  const own = zoneServers.map(normalize);
  if (!published.some((server) => own.includes(server))) {
    return {
      summary: `the public DNS delegates ${zoneName} to ${published.join(', ')}, not to this zone's name servers`,
      fix,
    };
  }
  return undefined;
}
