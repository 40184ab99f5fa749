//! Test support: where the test models are, and scratch files.
#![allow(dead_code)]

use std::path::PathBuf;

/// The folder holding the models `capi_test_models` writes (tiny.fim: weather/music/alarm with
/// a component registry; tiny_plain.fim: the same without; tiny_other.fim: the labels renamed
/// meteo/musique/reveil). CTest passes it as FASTINTENT_TEST_MODELS; by hand, the Release
/// build's folder is used when it exists.
pub fn models_dir() -> PathBuf {
    let dir = match std::env::var_os("FASTINTENT_TEST_MODELS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../build/release/src/capi/testdata"
        )),
    };
    assert!(
        dir.join("tiny.fim").exists(),
        "no test models in {}: run `ctest --preset release -R capi_test_models` (or \
         build/release/src/capi/capi_test_models DIR) and set FASTINTENT_TEST_MODELS=DIR",
        dir.display()
    );
    dir
}

pub fn model_path(name: &str) -> PathBuf {
    models_dir().join(name)
}

pub fn tiny() -> fastintent::Model {
    fastintent::Model::load(model_path("tiny.fim")).expect("tiny.fim loads")
}

/// A fresh scratch folder for one test (removed when dropped).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("fastintent-rust-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A text over the size limit (1 MiB + 1 byte) made of known words.
pub fn oversized_text() -> String {
    let mut s = "play some music ".repeat(fastintent::MAX_TEXT_BYTES / 16 + 1);
    s.truncate(fastintent::MAX_TEXT_BYTES + 1);
    s
}

/// Snowmen only: no known word or character, so nothing to classify.
pub const UNKNOWN_TEXT: &str = "\u{2603}\u{2603} \u{2603}";

/// A small multi-label (sigmoid) model of the assistant's nine components, trained once per
/// test binary by the CLI (FASTINTENT_CLI, else the Release build's tools/fastintent) from
/// data/assistant in about a second: small widths, so it shows the mechanics, not the accuracy.
pub fn assistant_model_path() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let cli = match std::env::var_os("FASTINTENT_CLI") {
            Some(c) => PathBuf::from(c),
            None => repo.join("build/release/tools/fastintent"),
        };
        assert!(
            cli.exists(),
            "no fastintent CLI at {}: build it or set FASTINTENT_CLI",
            cli.display()
        );
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("assistant-{}.fim", std::process::id()));
        let data = repo.join("data/assistant");
        let status = std::process::Command::new(&cli)
            .arg("train")
            .arg(data.join("train.jsonl"))
            .arg("--valid")
            .arg(data.join("valid.jsonl"))
            .arg("--components")
            .arg(data.join("components.json"))
            .args([
                "--hidden",
                "32",
                "--buckets",
                "16384",
                "--epochs",
                "8",
                "--threads",
                "1",
                "-q",
                "-o",
            ])
            .arg(&out)
            .status()
            .expect("the CLI runs");
        assert!(status.success(), "fastintent train failed: {status}");
        out
    })
    .clone()
}
