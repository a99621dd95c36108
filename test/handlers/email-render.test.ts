import { describe, expect, it } from 'vitest'
import { composeEmail } from '../../src/handlers/email/message'
import {
  renderHtml,
  renderSubject,
  renderText,
  templateView,
} from '../../src/handlers/email/render'
import { emailDestination, makeJob } from '../support/jobs'

const job = makeJob('dst_aaaaaaaaaaaaaaaaaaaa', {
  data: '{"patientId":"P-1","eventType":"from-data","nested":{"ward":"ICU"},"list":[1,2]}',
  metadata: '{"eventType":"phi-access","severity":"high"}',
})
const view = templateView(job)

describe('e-mail templates', () => {
  it('Should read placeholders from data first, then metadata, then the delivery', () => {
    expect(
      renderText(
        '{{patientId}} {{eventType}} {{severity}} {{delivery.type}} {{delivery.sequence}}',
        view,
      ),
    ).toBe('P-1 from-data high phi-access-audit 42')
  })

  it('Should reach into objects and render objects and arrays as JSON, missing names as nothing', () => {
    expect(renderText('{{nested.ward}}|{{nested}}|{{list}}|{{missing}}|', view)).toBe(
      'ICU|{"ward":"ICU"}|[1,2]||',
    )
  })

  it('Should fill the seed subject from metadata when data has no eventType', () => {
    const seedJob = makeJob('dst_aaaaaaaaaaaaaaaaaaaa')
    expect(
      renderSubject('[HIPAA] Audit Event Notification - {{eventType}}', templateView(seedJob)),
    ).toBe('[HIPAA] Audit Event Notification - phi-access')
  })

  it('Should turn CR, LF and other control characters in a subject into single spaces', () => {
    const hostile = templateView(
      makeJob('dst_aaaaaaaaaaaaaaaaaaaa', {
        data: '{"who":"a\\r\\nBcc: x@evil.test\\u0000\\t b"}',
      }),
    )
    expect(renderSubject('Hi {{who}}', hostile)).toBe('Hi a Bcc: x@evil.test b')
  })

  it('Should escape every value in HTML, whatever the tag', () => {
    const hostile = templateView(
      makeJob('dst_aaaaaaaaaaaaaaaaaaaa', { data: '{"x":"<i a=\\"1\\">\'&"}' }),
    )
    expect(renderHtml('{{x}}|{{{x}}}|{{&x}}', hostile)).toBe(
      '&lt;i a&#x3D;&quot;1&quot;&gt;&#39;&amp;|&lt;i a&#x3D;&quot;1&quot;&gt;&#39;&amp;|&lt;i a&#x3D;&quot;1&quot;&gt;&#39;&amp;',
    )
  })

  it('Should leave text bodies unescaped', () => {
    const hostile = templateView(makeJob('dst_aaaaaaaaaaaaaaaaaaaa', { data: '{"x":"<b>&"}' }))
    expect(renderText('{{x}}', hostile)).toBe('<b>&')
  })

  it('Should give up permanently on a template that does not parse', async () => {
    const destination = emailDestination({ service: 'smtp', subject: 'Broken {{#open}}' })
    expect(await composeEmail(job, destination.config, destination.id)).toEqual({
      kind: 'permanent',
      code: 'template_error',
      message: 'The e-mail template cannot be rendered: Unclosed section "open" at 16',
    })
  })

  it('Should give up permanently when encryption is on but the key is unusable', async () => {
    const missing = emailDestination({
      service: 'smtp',
      encryption: { enabled: true, algorithm: 'AES-256-GCM' },
    })
    expect(await composeEmail(job, missing.config, missing.id)).toEqual({
      kind: 'permanent',
      code: 'encryption_key_missing',
      message: 'Encryption is enabled but the destination has no key',
    })
    const short = emailDestination({
      service: 'smtp',
      encryption: { enabled: true, algorithm: 'AES-256-GCM', key: btoa('too short') },
    })
    expect(await composeEmail(job, short.config, short.id)).toEqual({
      kind: 'permanent',
      code: 'encryption_key_invalid',
      message: 'encryption key is not 32 bytes',
    })
  })

  it('Should build byte-identical messages for retries, encrypted ones included', async () => {
    const destination = emailDestination({
      service: 'resend',
      encryption: {
        enabled: true,
        algorithm: 'AES-256-GCM',
        key: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
      },
    })
    const first = await composeEmail(job, destination.config, destination.id)
    const second = await composeEmail({ ...job, attempt: 2 }, destination.config, destination.id)
    expect(second).toEqual(first)
  })
})
