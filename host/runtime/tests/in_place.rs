//! The default guest's code runs from the binary's read-only data (x86-64 Linux), one
//! component per process at a time, and every other load copies it; both ways redact alike.
//! A test binary of its own: the claim on the embedded code is process-wide.

use exlogare_runtime::{DefaultGuest, Limits, RedactorOptions, Runtime};

const IN_PLACE_HERE: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));
const LOG: &[u8] = b"step 1\nexport DB_PASSWORD=hunter2-but-longer\nghp_notatoken ok\n";

/// Redacts `LOG` with the guest, with DB_PASSWORD known.
fn redact(guest: &mut DefaultGuest) -> Vec<u8> {
    guest
        .start_redactor(&RedactorOptions {
            known_secrets: vec![("DB_PASSWORD".into(), "hunter2-but-longer".into())],
            min_secret_length: 8,
            ..RedactorOptions::default()
        })
        .expect("the redactor starts");
    let mut out = guest.redact(LOG).expect("the guest redacts");
    out.extend(guest.redact_finish().expect("the guest finishes").0);
    out
}

#[test]
fn one_runtime_runs_in_place_the_others_copy_and_all_redact_alike() {
    let first = Runtime::new(None).expect("engine");
    let mut a = DefaultGuest::new(&first, &Limits::default()).expect("guest loads");
    assert_eq!(first.default_guest_in_place(), IN_PLACE_HERE);
    let expected = redact(&mut a);
    let text = String::from_utf8_lossy(&expected);
    assert!(!text.contains("hunter2-but-longer"), "{text}");
    assert!(text.contains("[REDACTED:DB_PASSWORD]"), "{text}");

    // A second guest of the same runtime shares the in-place component.
    let mut b = DefaultGuest::new(&first, &Limits::default()).expect("guest loads");
    assert_eq!(redact(&mut b), expected);

    // Another runtime meanwhile copies the artifact, and works the same.
    let second = Runtime::new(None).expect("engine");
    let mut c = DefaultGuest::new(&second, &Limits::default()).expect("guest loads");
    assert!(!second.default_guest_in_place());
    assert_eq!(redact(&mut c), expected);

    // Once the first runtime and its guests are gone, the code can run in place again.
    drop((a, b, first));
    let third = Runtime::new(None).expect("engine");
    let mut d = DefaultGuest::new(&third, &Limits::default()).expect("guest loads");
    assert_eq!(third.default_guest_in_place(), IN_PLACE_HERE);
    assert_eq!(redact(&mut d), expected);

    // Runtimes started on several threads at once: one may run in place, all redact alike.
    let outputs: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let runtime = Runtime::new(None).expect("engine");
                    let mut guest =
                        DefaultGuest::new(&runtime, &Limits::default()).expect("guest loads");
                    redact(&mut guest)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no thread panics"))
            .collect()
    });
    assert!(outputs.iter().all(|o| *o == expected));
}
