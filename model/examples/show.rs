//! `cargo run -p owm-model --example show -- <model flags>`: checks one configuration
//! and prints the report (what `owm check` will print).
fn main() {
    let flags = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let cfg = model::CheckConfig::from_model_flags(&flags).expect("flags");
    let r = model::check(&cfg).expect("check");
    print!("{}", r.render());
    for p in &r.properties {
        if let model::Outcome::Violated { trace, .. } = &p.outcome {
            println!("\n--- trace file ---\n{}", trace.to_text());
        }
    }
}
