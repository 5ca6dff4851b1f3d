//! A TCP forwarder that can be switched off, to make an endpoint refuse connections
//! (SNS "down") and come back on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::{BoxError, poll_until};

pub struct Proxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Forwards a fresh loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> Result<Proxy, BoxError> {
        let target = tokio::net::lookup_host(target)
            .await?
            .next()
            .ok_or("target does not resolve")?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            target,
            tasks: Arc::default(),
        };
        proxy.accept_on(listener);
        Ok(proxy)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes the port and every forwarded connection: connecting is refused from now on.
    pub fn stop(&self) {
        for task in self.tasks.lock().expect("not poisoned").drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again (a no-op while listening).
    pub async fn resume(&self) -> Result<(), BoxError> {
        if !self.tasks.lock().expect("not poisoned").is_empty() {
            return Ok(());
        }
        // The aborted listener is closed once its task is dropped, which takes a moment.
        let listener = poll_until(Duration::from_secs(5), "the proxy's port", || async {
            TcpListener::bind(self.addr).await.ok()
        })
        .await?;
        self.accept_on(listener);
        Ok(())
    }

    fn accept_on(&self, listener: TcpListener) {
        let target = self.target;
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut tasks = tasks.lock().expect("not poisoned");
                tasks.retain(|task| !task.is_finished());
                tasks.push(connection);
            }
        });
        self.tasks.lock().expect("not poisoned").push(accept);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}
