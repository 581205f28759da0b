/** What the AWS SDK's errors carry: a name, a network code, the store's HTTP status. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (error: unknown) => (error as SdkError).$metadata?.httpStatusCode;

/** No object has the key (GetObject's NoSuchKey, HeadObject's bare 404). */
export const isMissing = (error: unknown) =>
  statusOf(error) === 404 || ['NoSuchKey', 'NotFound'].includes((error as SdkError).name ?? '');

/** Why a request failed, in words: the network error's code, or the store's answer. */
export function reasonOf(error: unknown): string {
  const { name, code, message } = error as SdkError;
  const status = statusOf(error);
  if (status !== undefined) return `${name ?? 'error'} (HTTP ${status})`;
  return [code ?? name, message].filter(Boolean).join(': ') || String(error);
}

/** What to fix when the start-up check of the bucket fails, naming the settings. */
export function startupHintOf(error: unknown): string {
  const status = statusOf(error);
  if (status === 404) return 'no such bucket';
  if (status === 400 || status === 401 || status === 403)
    return 'access denied: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY) and S3_REGION';
  if ((error as SdkError).name === 'CredentialsProviderError')
    return 'no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)';
  return `cannot reach the store (${reasonOf(error)}): check S3_ENDPOINT`;
}
