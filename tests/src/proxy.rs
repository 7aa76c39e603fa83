//! A small HTTP proxy on 127.0.0.1 for tests: it forwards absolute-form requests
//! (`POST http://127.0.0.1:PORT/...`) and tunnels `CONNECT 127.0.0.1:PORT`, records what it was
//! asked (method, target, `Proxy-Authorization`), and refuses any target but 127.0.0.1, so a
//! test can assert that the upload really went through the proxy, with its credentials.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One request the proxy was asked to handle.
#[derive(Clone, Debug)]
pub struct ProxyRequest {
    /// `CONNECT`, `POST`...
    pub method: String,
    /// The request target (`127.0.0.1:PORT` or `http://127.0.0.1:PORT/path`).
    pub target: String,
    /// The `Proxy-Authorization` header, if any.
    pub proxy_authorization: Option<String>,
}

/// The proxy. Lives until the test process ends.
pub struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<ProxyRequest>>>,
}

impl Proxy {
    /// Starts it.
    pub fn start() -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let record = record.clone();
                    tokio::spawn(async move {
                        let _ = handle(stream, record).await;
                    });
                }
            });
        });
        Proxy { addr, seen }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://user:password@127.0.0.1:PORT`.
    pub fn url_with_auth(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// What it was asked so far.
    pub fn seen(&self) -> Vec<ProxyRequest> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn handle(
    stream: tokio::net::TcpStream,
    record: Arc<Mutex<Vec<ProxyRequest>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await? == 0 {
            return Ok(());
        }
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        headers.push(h);
    }
    let proxy_authorization = headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("proxy-authorization")
            .then(|| v.trim().to_string())
    });
    record.lock().expect("lock").push(ProxyRequest {
        method: method.clone(),
        target: target.clone(),
        proxy_authorization,
    });
    let leftover = reader.buffer().to_vec();
    let mut client = reader.into_inner();
    let (authority, path) = if method.eq_ignore_ascii_case("CONNECT") {
        (target.clone(), None)
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(&target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (
            authority.to_string(),
            Some(if path.is_empty() { "/" } else { path }.to_string()),
        )
    };
    if !authority.starts_with("127.0.0.1:") {
        client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut upstream = tokio::net::TcpStream::connect(&authority).await?;
    match path {
        None => {
            client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await?;
        }
        Some(path) => {
            let mut head = format!("{method} {path} {version}\r\n");
            for h in &headers {
                let name = h
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                if name != "proxy-authorization" && name != "proxy-connection" {
                    head.push_str(h);
                    head.push_str("\r\n");
                }
            }
            head.push_str("\r\n");
            upstream.write_all(head.as_bytes()).await?;
        }
    }
    upstream.write_all(&leftover).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
