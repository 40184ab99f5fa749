//! A multi-label (sigmoid) model with the assistant's component registry, trained by the CLI:
//! the README's example, sigmoid predictions, routing with priorities, and the engine on it.
mod common;

use common::assistant_model_path;
use fastintent::{Engine, EngineOptions, Kind, Model, Priority, RequestOptions};

#[tokio::test]
async fn readme_example_runs() {
    let path = assistant_model_path();
    std::env::set_current_dir(path.parent().unwrap()).unwrap();
    std::fs::create_dir_all("models").unwrap();
    std::fs::copy(&path, "models/assistant.fim").unwrap();
    let run = || async {
        // The README's five lines, as written there.
        let model = fastintent::Model::load("models/assistant.fim")?;
        println!("{:?}", model.predict("can you see my screen")?); // best labels (none: out of scope)
        println!("{:?}", model.route("will it rain tomorrow", None)?); // components, dependencies, memory
        let engine = fastintent::Engine::new(&model, &Default::default())?;
        let answer = engine.predict("set an alarm for 7 am").await?; // awaited from Tokio, never blocking it
        Ok::<_, fastintent::Error>(answer.labels().len())
    };
    run().await.unwrap();
}

#[test]
fn sigmoid_labels_are_independent_and_thresholded() {
    let m = Model::load(assistant_model_path()).unwrap();
    assert_eq!(m.kind(), Kind::Sigmoid);
    assert_eq!(m.labels().len(), 9);
    assert_eq!(m.component_count(), 9);
    let text = "read the error on my screen out loud";
    let probs = m.probabilities(text).unwrap();
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
    let all = m.predict_with(text, 9, Some(0.0)).unwrap();
    assert_eq!(all.len(), 9);
    for l in &all {
        assert_eq!(l.prob, probs[l.index as usize]);
    }
    // Sigmoid: every label at or above the threshold, best first, at most k.
    for t in [0.1, 0.3, 0.5, m.threshold()] {
        let got = m.predict_with(text, 9, Some(t)).unwrap();
        assert_eq!(got.len(), probs.iter().filter(|&&p| p >= t).count(), "threshold {t}");
        assert!(got.windows(2).all(|w| w[0].prob >= w[1].prob));
        assert!(m.predict_with(text, 1, Some(t)).unwrap().len() <= 1);
    }
}

#[test]
fn routes_every_component_by_priority_at_threshold_zero() {
    let m = Model::load(assistant_model_path()).unwrap();
    // Threshold 0 reports every label, so every component is routed, each for itself.
    let r = m.route("unlock my mac with my voice", Some(0.0)).unwrap();
    assert_eq!(r.components.len(), 9);
    assert_eq!(r.total_memory_mb, r.components.iter().map(|c| c.memory_mb).sum::<i32>());
    assert_eq!(r.total_memory_mb, 1080); // data/assistant/components.json
    assert!(r.components.windows(2).all(|w| w[0].priority <= w[1].priority));
    assert!(r.components.iter().all(|c| !c.dependency));
    let voice_unlock = r.components.iter().find(|c| c.name == "voice_unlock").unwrap();
    assert_eq!((voice_unlock.priority, voice_unlock.memory_mb), (Priority::Medium, 80));
    // At the calibrated threshold, each routed component's dependencies are routed too.
    let r = m.route("unlock my mac with my voice", None).unwrap();
    if r.components
        .iter()
        .any(|c| c.name == "voice_unlock" || c.name == "wake_word" || c.name == "display_monitor")
    {
        assert!(r.components.iter().any(|c| c.name == "voice"), "{r:?}");
    }
}

#[tokio::test]
async fn engine_serves_the_sigmoid_model() {
    let m = Model::load(assistant_model_path()).unwrap();
    let e = Engine::new(&m, &EngineOptions::default()).unwrap();
    let text = "is the external monitor connected and what's the gpu temperature";
    let opts = RequestOptions {
        k: 9,
        threshold: Some(0.0),
        probabilities: true,
        ..RequestOptions::default()
    };
    let p = e.predict_with(text, &opts).await.unwrap();
    assert_eq!(p.labels(), m.predict_with(text, 9, Some(0.0)).unwrap());
    assert_eq!(p.probabilities(), m.probabilities(text).unwrap());
    assert_eq!(e.route(text).await.unwrap().route(), m.route(text, None).unwrap());
}
