//! A real HTTP/1.1 server on 127.0.0.1 for tests: it records every request that arrives and
//! answers from a script (status codes, headers, delays, dropped connections), so delivery is
//! tested against real sockets, never a mock client.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP answer.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without answering (a reset or lost answer, seen by the client).
    Drop,
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    /// A plain answer with a JSON body.
    pub fn status(code: u16) -> Reply {
        Reply::Status {
            code,
            headers: Vec::new(),
            body: format!("{{\"status\":{code}}}"),
        }
    }

    /// An answer with one extra header.
    pub fn with_header(code: u16, name: &str, value: &str) -> Reply {
        Reply::Status {
            code,
            headers: vec![(name.to_string(), value.to_string())],
            body: format!("{{\"status\":{code}}}"),
        }
    }
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST`...
    pub method: String,
    /// The request target.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as sent on the wire.
    pub raw_body: Vec<u8>,
    /// The body, gunzipped when `Content-Encoding: gzip`.
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        crate::json(&self.body)
    }

    /// Everything that arrived, as text, for "this must not be in it" checks.
    pub fn everything(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.path);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s.push_str(&String::from_utf8_lossy(&self.body));
        s
    }
}

struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    stop: AtomicBool,
}

/// The server. Stops when dropped.
pub struct Receiver {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
}

impl Receiver {
    /// A receiver that answers `202 Accepted` to everything.
    pub fn start() -> Receiver {
        Receiver::with_replies(Vec::new())
    }

    /// A receiver that answers with `replies` in order, then `202`.
    pub fn with_replies(replies: Vec<Reply>) -> Receiver {
        Receiver::scripted(replies, Reply::status(202))
    }

    /// A receiver that answers with `replies` in order, then `default` forever.
    pub fn scripted(replies: Vec<Reply>, default: Reply) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            script: Mutex::new(replies.into()),
            default,
            stop: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn_shared = accept_shared.clone();
                thread::spawn(move || serve(stream, conn_shared));
            }
        });
        Receiver { addr, shared }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// What has arrived so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// The only request that arrived (panics otherwise).
    pub fn single(&self) -> Received {
        let all = self.received();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one request, got {}",
            all.len()
        );
        all.into_iter().next().expect("one request")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        shared.received.lock().expect("lock").push(request);
        let reply = shared
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| shared.default.clone());
        if !answer(&mut writer, reply, &shared) {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Writes `reply`; false when the connection must be closed.
fn answer(writer: &mut TcpStream, reply: Reply, shared: &Shared) -> bool {
    match reply {
        Reply::Drop => false,
        Reply::Delay(delay, inner) => {
            let until = Instant::now() + delay;
            while Instant::now() < until {
                if shared.stop.load(Ordering::Relaxed) {
                    return false;
                }
                thread::sleep(Duration::from_millis(20));
            }
            answer(writer, *inner, shared)
        }
        Reply::Status {
            code,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {code} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                reason(code),
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            writer.write_all(head.as_bytes()).is_ok()
                && writer.write_all(body.as_bytes()).is_ok()
                && writer.flush().is_ok()
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut raw_body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            raw_body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        raw_body = vec![0u8; len];
        reader.read_exact(&mut raw_body).ok()?;
    }
    let body = if get("content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip")) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw_body[..])
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        raw_body.clone()
    };
    Some(Received {
        method,
        path,
        headers,
        raw_body,
        body,
    })
}
