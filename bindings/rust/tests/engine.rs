//! The async engine from Tokio: answers, options, swap, stats, shutdown, cancellation by drop,
//! refusals, and thousands of concurrent awaits.
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{model_path, oversized_text, tiny, UNKNOWN_TEXT};
use fastintent::{Code, Engine, EngineOptions, Model, Priority, RequestOptions, ShutdownMode};

fn engine(model: &Model) -> Engine {
    Engine::new(model, &EngineOptions::default()).expect("engine starts")
}

/// One worker taking one request at a time: requests queue up behind a slow one.
fn one_at_a_time(model: &Model) -> Engine {
    let options = EngineOptions { workers: 1, max_batch: 1, ..EngineOptions::default() };
    Engine::new(model, &options).unwrap()
}

/// A text of `kib` KiB that takes the tiny model a while (~10 us per KiB) to classify.
fn slow_text_of(kib: usize) -> String {
    "will it rain or snow tomorrow ".repeat(kib * 1024 / 30)
}

fn slow_text() -> String {
    slow_text_of(64)
}

const ZERO: RequestOptions = RequestOptions {
    k: 1,
    threshold: Some(0.0),
    probabilities: false,
    route: false,
    timeout: None,
};

#[tokio::test]
async fn predict_awaits_the_answer() {
    let m = tiny();
    let e = engine(&m);
    let p = e.predict_with("play some music", &ZERO).await.unwrap();
    let top = p.top().unwrap();
    assert_eq!((top.name.as_ref(), top.index as usize), ("music", m.label_index("music").unwrap()));
    assert_eq!(p.labels(), m.predict_with("play some music", 1, Some(0.0)).unwrap());
    assert_eq!(p.model_version(), 1);
    assert!(p.probabilities().is_empty());
    assert!(p.route().components.is_empty());
    let (queued, computed) = p.timings();
    assert!(computed > Duration::ZERO && queued < Duration::from_secs(10));
    // The default request is the calibrated top-1, as Model::predict.
    let d = e.predict("will it rain tomorrow").await.unwrap();
    assert_eq!(d.labels(), m.predict("will it rain tomorrow").unwrap());
}

#[tokio::test]
async fn request_options_ask_for_more() {
    let m = tiny();
    let e = engine(&m);
    let opts = RequestOptions { k: 3, probabilities: true, ..ZERO };
    let p = e.predict_with("will it rain tomorrow", &opts).await.unwrap();
    assert_eq!(p.labels(), m.predict_with("will it rain tomorrow", 3, Some(0.0)).unwrap());
    assert_eq!(p.probabilities(), m.probabilities("will it rain tomorrow").unwrap());

    let r = e.route("will it rain tomorrow").await.unwrap().route();
    assert_eq!(r, m.route("will it rain tomorrow", None).unwrap());
    let r = e
        .predict_with("will it rain tomorrow", &RequestOptions { route: true, ..ZERO })
        .await
        .unwrap()
        .route();
    assert_eq!(r.total_memory_mb, 15);
    assert_eq!(
        (r.components[0].name.as_str(), r.components[0].priority),
        ("alarm", Priority::Core)
    );
}

#[tokio::test]
async fn bad_requests_fail_their_future() {
    let m = tiny();
    let e = engine(&m);
    // Nothing to classify: answered by the model.
    for text in ["", UNKNOWN_TEXT] {
        let err = e.predict(text).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{text:?}: {err}");
    }
    // Refused at submission.
    let err = e.predict(oversized_text()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("too long"), "{err}");
    let err = e
        .predict_with("music", &RequestOptions { threshold: Some(2.0), ..ZERO })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let plain = Model::load(model_path("tiny_plain.fim")).unwrap();
    let err = engine(&plain).route("will it rain").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err}");
    // The engine still serves after all of these.
    assert!(e.predict_with("music", &ZERO).await.is_ok());
    let s = e.stats().unwrap();
    assert_eq!(s.failed, 2);
}

#[tokio::test]
async fn timeout_expires_the_request() {
    let m = tiny();
    let e = engine(&m);
    let opts = RequestOptions { timeout: Some(Duration::from_nanos(1)), ..ZERO };
    let err = e.predict_with("music", &opts).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    let opts = RequestOptions { timeout: Some(Duration::from_secs(60)), ..ZERO };
    assert!(e.predict_with("music", &opts).await.is_ok());
}

#[tokio::test]
async fn use_after_shutdown_is_refused() {
    let m = tiny();
    let e = engine(&m);
    assert!(e.predict_with("music", &ZERO).await.is_ok());
    e.shutdown(ShutdownMode::Drain).unwrap();
    e.shutdown(ShutdownMode::Drain).unwrap(); // idempotent
    let err = e.predict("music").await.unwrap_err();
    assert_eq!(err.code(), Code::ShutDown, "{err}");
    assert_eq!(e.route("will it rain").await.unwrap_err().code(), Code::ShutDown);
    let s = e.stats().unwrap();
    assert_eq!((s.completed, s.failed, s.queue_depth), (1, 0, 0));
}

#[tokio::test]
async fn shutdown_drains_queued_requests() {
    let m = tiny();
    let e = one_at_a_time(&m);
    let slow = slow_text();
    let pending: Vec<_> = (0..20).map(|_| e.predict_with(&slow, &ZERO)).collect();
    e.shutdown(ShutdownMode::Drain).unwrap();
    for p in pending {
        assert_eq!(p.await.unwrap().top().unwrap().name, "weather");
    }
}

#[tokio::test]
async fn shutdown_cancelling_queued_requests_answers_them_cancelled() {
    let m = tiny();
    let e = one_at_a_time(&m);
    let slow = slow_text();
    let pending: Vec<_> = (0..200).map(|_| e.predict_with(&slow, &ZERO)).collect();
    e.shutdown(ShutdownMode::CancelQueued).unwrap();
    let (mut ok, mut cancelled) = (0, 0);
    for p in pending {
        match p.await {
            Ok(_) => ok += 1,
            Err(err) if err.code() == Code::Cancelled => cancelled += 1,
            Err(err) => panic!("unexpected {err}"),
        }
    }
    let s = e.stats().unwrap();
    assert_eq!((s.completed, s.cancelled), (ok, cancelled));
    assert!(cancelled > 100, "{ok} computed, {cancelled} cancelled");
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let m = tiny();
    let e = one_at_a_time(&m);
    let slow = slow_text();
    // Submitted at once, dropped at once: the worker reaches at most a few before the drops.
    let pending: Vec<_> = (0..300).map(|_| e.predict_with(&slow, &ZERO)).collect();
    drop(pending);
    // An awaited request queued behind them is still answered.
    assert_eq!(
        e.predict_with("play some music", &ZERO).await.unwrap().top().unwrap().name,
        "music"
    );
    e.shutdown(ShutdownMode::Drain).unwrap();
    let s = e.stats().unwrap();
    assert_eq!(s.completed + s.cancelled, 301, "{s:?}");
    assert!(s.cancelled > 250, "only {} of 300 dropped requests were cancelled", s.cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_task_cancels_its_request() {
    let m = tiny();
    let e = Arc::new(one_at_a_time(&m));
    let slow = Arc::new(slow_text_of(256));
    let blocker = e.predict_with(slow.as_str(), &ZERO); // keeps the worker busy
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (e, slow) = (e.clone(), slow.clone());
            tokio::spawn(async move { e.predict_with(slow.as_str(), &ZERO).await })
        })
        .collect();
    while e.stats().unwrap().submitted < 51 {
        tokio::time::sleep(Duration::from_millis(1)).await; // until every task has submitted
    }
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
    drop(blocker);
    e.shutdown(ShutdownMode::Drain).unwrap();
    let s = e.stats().unwrap();
    assert_eq!(s.completed + s.cancelled, 51, "{s:?}");
    assert!(s.cancelled >= 40, "{s:?}");
}

#[tokio::test]
async fn a_full_queue_is_overloaded_at_once() {
    let m = tiny();
    let options =
        EngineOptions { workers: 1, max_batch: 1, queue_capacity: 4, ..EngineOptions::default() };
    let e = Engine::new(&m, &options).unwrap();
    let slow = slow_text();
    let pending: Vec<_> = (0..64).map(|_| e.predict_with(&slow, &ZERO)).collect();
    let mut overloaded = 0;
    for p in pending {
        match p.await {
            Ok(_) => {}
            Err(err) if err.code() == Code::Overloaded => overloaded += 1,
            Err(err) => panic!("unexpected {err}"),
        }
    }
    assert!(overloaded >= 50, "{overloaded} of 64 refused with a queue of 4");
    assert_eq!(e.stats().unwrap().rejected, overloaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_awaits() {
    let m = tiny();
    let e = Arc::new(engine(&m));
    let texts = ["play some music", "will it rain tomorrow", "wake me up alarm"];
    let expected: Vec<_> =
        texts.iter().map(|t| m.predict_with(t, 1, Some(0.0)).unwrap()[0].index).collect();
    let tasks: Vec<_> = (0..10_000)
        .map(|i| {
            let e = e.clone();
            tokio::spawn(async move {
                let p = e.predict_with(texts[i % 3], &ZERO).await.unwrap();
                p.top().unwrap().index
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), expected[i % 3]);
    }
    let s = e.stats().unwrap();
    assert_eq!((s.completed, s.failed, s.rejected, s.cancelled), (10_000, 0, 0, 0));
    assert!(s.mean_batch_size >= 1.0);
}

#[tokio::test]
async fn thousands_in_flight_from_one_task() {
    // Submitting is eager, so one task can keep thousands of requests in flight.
    let m = tiny();
    let e = engine(&m);
    let pending: Vec<_> = (0..5000)
        .map(|i| e.predict_with(if i % 2 == 0 { "play music" } else { "rain" }, &ZERO))
        .collect();
    for (i, p) in pending.into_iter().enumerate() {
        let name = p.await.unwrap().top().unwrap().name.into_owned();
        assert_eq!(name, if i % 2 == 0 { "music" } else { "weather" });
    }
}

#[tokio::test]
async fn swap_serves_the_new_model_and_old_answers_keep_their_labels() {
    let m = tiny();
    let e = engine(&m);
    let before = e.predict_with("will it rain", &ZERO).await.unwrap();
    let other = Model::load(model_path("tiny_other.fim")).unwrap();
    assert_eq!(e.swap(&other).unwrap(), 2);
    assert_eq!(e.model_version(), 2);
    drop(other); // the engine keeps its own reference
    let after = e.predict_with("will it rain", &ZERO).await.unwrap();
    assert_eq!((after.top().unwrap().name.as_ref(), after.model_version()), ("meteo", 2));
    assert_eq!((before.top().unwrap().name.as_ref(), before.model_version()), ("weather", 1));
    assert_eq!(e.route("will it rain").await.unwrap().route().components[1].name, "meteo");
    assert_eq!(e.stats().unwrap().model_version, 2);
    let plain = Model::load(model_path("tiny_plain.fim")).unwrap();
    assert_eq!(e.swap(&plain).unwrap(), 3);
    assert_eq!(e.route("will it rain").await.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn engine_outlives_its_model_and_answers_outlive_the_engine() {
    let m = tiny();
    let e = engine(&m);
    drop(m);
    let p = e.predict_with("play some music", &ZERO).await.unwrap();
    drop(e);
    assert_eq!(p.top().unwrap().name, "music");
}

#[tokio::test]
async fn dropping_the_engine_answers_what_is_pending() {
    let m = tiny();
    let e = one_at_a_time(&m);
    let slow = slow_text();
    let pending: Vec<_> = (0..10).map(|_| e.predict_with(&slow, &ZERO)).collect();
    drop(e); // drains
    for p in pending {
        assert!(p.await.is_ok());
    }
}

#[test]
fn stats_count_and_time_requests() {
    let m = tiny();
    let e = engine(&m);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            e.predict_with("play some music", &ZERO).await.unwrap();
        }
    });
    let s = e.stats().unwrap();
    assert_eq!(
        (s.submitted, s.completed, s.failed, s.rejected, s.queue_depth),
        (100, 100, 0, 0, 0)
    );
    assert!(s.batches >= 1 && s.batches <= 100);
    assert!(
        s.compute_p50 > Duration::ZERO
            && s.latency_p99 >= s.latency_p50
            && s.latency_max >= s.latency_p99
    );
    assert!(format!("{e:?}").contains("model_version: 1"));
}
