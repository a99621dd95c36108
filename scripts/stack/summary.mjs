/** The banner `npm start` prints once the stack is ready: where everything is, and the keys. */

function rows(entries) {
  const width = Math.max(...entries.map(([name]) => name.length))
  const indent = ' '.repeat(width + 4)
  return entries
    .map(([name, value]) => `  ${name.padEnd(width)}  ${value.split('\n').join(`\n${indent}`)}`)
    .join('\n')
}

function destinationLines(seeded) {
  if (!seeded) return 'not created (see the message above)'
  return Object.entries(seeded.state.destinations)
    .map(([type, each]) => `${type} ${each.id} "${each.label}" (${each.outcome})`)
    .join('\n')
}

/** Prints the banner to stdout. */
export function printSummary({ urls, ports, host, peers, adminToken, organizationId, seeded }) {
  const banner = `
Local stack ready. Ctrl-C stops everything.

${rows([
  ['API', urls.api],
  ['Reference', `${urls.api}/docs`],
  ['OpenAPI', `${urls.api}/openapi.json`],
  ['Webhook inbox', `${urls.webhookInbox}  (receives; what arrived: ${urls.viewer}/webhooks)`],
  [
    'S3 (s3rver)',
    `${urls.s3}  bucket ${peers.s3.bucket}, keys ${peers.s3.accessKeyId} / ${peers.s3.secretAccessKey}`,
  ],
  [
    'SMTP',
    `${host}:${ports.smtp}  (no TLS; AUTH with any user and password ${peers.smtp.password})`,
  ],
  ['Mail viewer', `${urls.viewer}/mail  (JSON: ${urls.viewer}/mail.json)`],
])}

${rows([
  ['Admin token', `${adminToken}  (from .dev.vars)`],
  ['Organization', seeded ? `${organizationId} (${seeded.organization})` : organizationId],
  [
    'Demo API key',
    seeded
      ? `${seeded.state.apiKey}  (${seeded.key}; in .local/demo.json)`
      : 'see the message above',
  ],
  ['Destinations', destinationLines(seeded)],
])}

Try it:
  curl -s ${urls.api}/v1/settings -H "authorization: Bearer ${seeded?.state.apiKey ?? '<api key>'}"
`
  process.stdout.write(banner)
}
