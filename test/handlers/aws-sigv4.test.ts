/**
 * aws4fetch against AWS's own published Signature Version 4 examples, with AWS's
 * documented example credentials and expected signatures: if these hold, what the S3 and
 * SES handlers sign is what AWS computes.
 */
import { AwsV4Signer } from 'aws4fetch'
import { describe, expect, it } from 'vitest'

// The SigV4 test suite's credentials (docs: "Signature Version 4 test suite").
const SUITE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
  datetime: '20150830T123600Z',
}

describe('aws4fetch SigV4 signing', () => {
  it('Should match the test suite "get-vanilla" signature', async () => {
    const signed = await new AwsV4Signer({
      ...SUITE,
      url: 'https://example.amazonaws.com/',
      method: 'GET',
    }).sign()
    expect(signed.headers.get('authorization')).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    )
  })

  it('Should match "get-vanilla-query-order-key-case": the query is sorted before signing', async () => {
    const signed = await new AwsV4Signer({
      ...SUITE,
      url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      method: 'GET',
    }).sign()
    expect(signed.headers.get('authorization')).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    )
  })

  it("Should match the S3 documentation's GET Object example (single chunk, empty payload hash)", async () => {
    const signed = await new AwsV4Signer({
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      method: 'GET',
      headers: {
        Range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      // The S3 guide's example key pair (its secret differs from the test suite's).
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      region: 'us-east-1',
      service: 's3',
      datetime: '20130524T000000Z',
      // The example signs Range, which aws4fetch leaves out unless told to sign every header.
      allHeaders: true,
    }).sign()
    expect(signed.headers.get('authorization')).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
  })
})
