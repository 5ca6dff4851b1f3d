//! An HTTPS front for a plain-HTTP local endpoint (the SNS stub, moto), so that the relay
//! pays what it pays in AWS: a TLS handshake against an RSA-2048 certificate chain (leaf
//! and intermediate, as AWS endpoints present). The chain and its test root are in
//! `local-stack/certs/`, made for these tests only; a client trusts them through
//! `SSL_CERT_FILE` (with `TRUST_ROOTS=system`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::BoxError;

/// The test root a client must trust to reach a [`TlsFront`].
pub fn root_certificate() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs/root.pem")
}

pub struct TlsFront {
    /// `https://127.0.0.1:<port>` (the certificate names the address, as `localhost`)
    pub url: String,
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepted: Arc<AtomicUsize>,
}

impl TlsFront {
    /// Serves HTTPS on a fresh loopback port, handing each connection's plaintext to
    /// `backend` (`host:port`).
    pub async fn start(backend: &str) -> Result<TlsFront, BoxError> {
        let certs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs");
        let chain = CertificateDer::pem_file_iter(certs.join("localhost-chain.pem"))?
            .collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(certs.join("localhost.key"))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let backend = backend.to_string();
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (tracked, counted) = (connections.clone(), accepted.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                // as AWS's servers do, no Nagle delay for the records after the handshake
                let _ = inbound.set_nodelay(true);
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                let connection = tokio::spawn(async move {
                    let (Ok(mut tls), Ok(mut plain)) = (
                        acceptor.accept(inbound).await,
                        TcpStream::connect(&backend).await,
                    ) else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
                let mut tracked = tracked.lock().expect("not poisoned");
                tracked.retain(|task| !task.is_finished());
                tracked.push(connection);
            }
        });
        Ok(TlsFront {
            url: format!("https://127.0.0.1:{}", addr.port()),
            addr,
            accept,
            connections,
            accepted,
        })
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes every open connection, as a server does with idle ones: a client's pooled
    /// connection is then dead, and the client only finds out when it uses it.
    pub fn close_connections(&self) -> usize {
        let open: Vec<_> = self
            .connections
            .lock()
            .expect("not poisoned")
            .drain(..)
            .collect();
        let count = open.iter().filter(|task| !task.is_finished()).count();
        open.iter().for_each(JoinHandle::abort);
        count
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        self.connections
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|task| !task.is_finished())
            .count()
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept.abort();
        self.close_connections();
    }
}
