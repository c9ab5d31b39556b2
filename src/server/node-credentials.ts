import type { KeyPairPem } from './pki.js';

/** The wire shape of the node join, shared by the server's handler and the agent (which must not load the server). */

/** Where a joining agent asks for its certificates (k3s serves the same from `/v1-k3s/…`). */
export const NODE_CREDENTIALS_PATH = '/v1-bosun/node-credentials';

export interface NodeCredentialsRequest { nodeName: string; addresses: string[] }

/** What an agent gets back: its client identity towards the API and its kubelet's serving certificate. */
export interface NodeCredentials {
  caPem: string;
  /** CN=system:node:<name>, O=system:nodes — upstream's node identity. */
  client: KeyPairPem;
  /** For the kubelet API on :10250, valid for the node's name and addresses. */
  serving: KeyPairPem;
}

