/**
 * The certificate and key a TLS server presents, as `serveTcp`'s `tls`
 * option takes them (and `Deno.listenTls` underneath).
 *
 * @module
 */

/** TLS certificate chain and private key, both PEM text. */
export interface TlsCertifiedKey {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}
