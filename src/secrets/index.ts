// Secrets at rest: AES-256-GCM envelopes for configuration values, the keyring from the environment.
export { decryptSecret, encryptSecret, envelopeKeyId, isEnvelope, SecretError, ENVELOPE_PREFIX, type SecretKey } from './cipher.ts';
export { generateSecretKey, keyringFromEnv, parseSecretKey, PREVIOUS_KEY_VAR, SECRET_KEY_VAR, type Keyring } from './keyring.ts';
export { containsEnvelopes, decryptTree, rotateConfigText, type DecryptionIssue, type RotationResult } from './config.ts';
