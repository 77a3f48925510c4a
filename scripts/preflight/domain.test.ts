import { ACMClient, DescribeCertificateCommand, ResourceNotFoundException } from '@aws-sdk/client-acm';
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  NoSuchHostedZone,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { checkCertificate, checkHostedZone } from './domain';
import { TARGET, testClients } from './testing';
import type { PreflightTarget } from './types';

const acm = mockClient(ACMClient);
const route53 = mockClient(Route53Client);
const clients = testClients();
const NAME_SERVERS = ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.co.uk'];

afterEach(() => {
  acm.reset();
  route53.reset();
});

const withDomain = (domain: Partial<NonNullable<PreflightTarget['domain']>>): PreflightTarget => ({
  ...TARGET,
  domain: { ...TARGET.domain!, ...domain },
});

function certificate(status: string, domainName: string, ...alternatives: string[]) {
  acm.on(DescribeCertificateCommand).resolves({
    Certificate: {
      Status: status as never,
      DomainName: domainName,
      SubjectAlternativeNames: [domainName, ...alternatives],
      NotAfter: new Date('2027-06-30T00:00:00Z'),
    },
  });
}

describe('checkCertificate', () => {
  it('passes for an ISSUED certificate whose SAN covers the name', async () => {
    certificate('ISSUED', 'staging.example.com', '*.staging.example.com');
    const result = await checkCertificate(clients, TARGET);
    expect(result.status).toBe('pass');
    expect(result.summary).toContain('valid until 2027-06-30');
    expect(acm.commandCalls(DescribeCertificateCommand)[0]?.args[0].input.CertificateArn).toBe(
      TARGET.domain?.certificateArn,
    );
  });

  it('passes for a wildcard of the parent zone of the name', async () => {
    certificate('ISSUED', '*.staging.example.com');
    expect((await checkCertificate(clients, TARGET)).status).toBe('pass');
  });

  it('fails for a wildcard of the parent domain, which does not cover a two-label subdomain', async () => {
    certificate('ISSUED', '*.example.com');
    const result = await checkCertificate(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(
      'certificate names *.example.com; none covers orders.staging.example.com (a wildcard covers one label only)',
    );
    expect(result.fix).toContain('*.staging.example.com');
  });

  it('fails while the certificate waits for its DNS validation, saying how to finish it', async () => {
    certificate('PENDING_VALIDATION', 'orders.staging.example.com');
    const result = await checkCertificate(clients, TARGET);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('PENDING_VALIDATION, not ISSUED');
    expect(result.fix).toMatch(/CNAME/);
  });

  it('fails for a certificate of another region without asking ACM', async () => {
    const result = await checkCertificate(
      clients,
      withDomain({ certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/abc' }),
    );
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('us-east-1');
    expect(acm.commandCalls(DescribeCertificateCommand)).toHaveLength(0);
  });

  it('fails for a certificate that does not exist', async () => {
    acm
      .on(DescribeCertificateCommand)
      .rejects(new ResourceNotFoundException({ message: 'none', $metadata: {} }));
    expect((await checkCertificate(clients, TARGET)).status).toBe('fail');
  });

  it('skips an environment without an HTTPS name, and one whose stack requests the certificate', async () => {
    expect((await checkCertificate(clients, { ...TARGET, domain: undefined })).status).toBe('skip');
    expect((await checkCertificate(clients, withDomain({ certificateArn: undefined }))).status).toBe('skip');
    expect(acm.commandCalls(DescribeCertificateCommand)).toHaveLength(0);
  });
});

describe('checkHostedZone', () => {
  const zone = (name: string, privateZone = false) =>
    route53.on(GetHostedZoneCommand).resolves({
      HostedZone: {
        Id: '/hostedzone/Z0123456789ABCDEFGHIJ',
        Name: name,
        CallerReference: 'x',
        Config: { PrivateZone: privateZone },
      },
      DelegationSet: { NameServers: NAME_SERVERS },
    });
  const delegated = async () => [...NAME_SERVERS];

  it('passes for a public zone that holds the name and that the public DNS delegates to', async () => {
    zone('staging.example.com.');
    const result = await checkHostedZone(clients, TARGET, delegated);
    expect(result.status).toBe('pass');
    expect(result.summary).toContain('delegated');
  });

  it('finds the zone by name when the configuration gives no id', async () => {
    route53.on(ListHostedZonesByNameCommand).resolves({
      HostedZones: [
        {
          Id: '/hostedzone/ZPRIVATE',
          Name: 'staging.example.com.',
          CallerReference: 'p',
          Config: { PrivateZone: true },
        },
        { Id: '/hostedzone/Z0123456789ABCDEFGHIJ', Name: 'staging.example.com.', CallerReference: 'x' },
      ],
    } as never);
    zone('staging.example.com.');
    const result = await checkHostedZone(
      clients,
      withDomain({ hostedZoneId: undefined, hostedZoneName: 'staging.example.com' }),
      delegated,
    );
    expect(result.status).toBe('pass');
    expect(route53.commandCalls(GetHostedZoneCommand)[0]?.args[0].input.Id).toBe(
      '/hostedzone/Z0123456789ABCDEFGHIJ',
    );
  });

  it('fails for a zone that does not exist', async () => {
    route53.on(GetHostedZoneCommand).rejects(new NoSuchHostedZone({ message: 'none', $metadata: {} }));
    const result = await checkHostedZone(clients, TARGET, delegated);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('no public hosted zone Z0123456789ABCDEFGHIJ');
  });

  it('fails for a private zone', async () => {
    zone('staging.example.com.', true);
    const result = await checkHostedZone(clients, TARGET, delegated);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('is private');
  });

  it('fails when the name is not inside the zone', async () => {
    zone('example.org.');
    const result = await checkHostedZone(clients, TARGET, delegated);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('orders.staging.example.com is not inside hosted zone example.org');
  });

  it('fails when the public DNS delegates the zone elsewhere, or not at all', async () => {
    zone('staging.example.com.');
    const elsewhere = await checkHostedZone(clients, TARGET, async () => ['ns1.registrar.example.net']);
    expect(elsewhere.status).toBe('fail');
    expect(elsewhere.fix).toContain(NAME_SERVERS.join(', '));
    const nowhere = await checkHostedZone(clients, TARGET, async () => {
      throw Object.assign(new Error('queryNs ENOTFOUND staging.example.com'), { code: 'ENOTFOUND' });
    });
    expect(nowhere.status).toBe('fail');
    expect(nowhere.summary).toContain('no name servers');
  });

  it('fails when the configuration names no zone, and skips without an HTTPS name', async () => {
    const noZone = await checkHostedZone(clients, withDomain({ hostedZoneId: undefined }), delegated);
    expect(noZone.status).toBe('fail');
    expect((await checkHostedZone(clients, { ...TARGET, domain: undefined }, delegated)).status).toBe('skip');
  });
});
