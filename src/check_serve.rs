//! `owm check --serve ADDR`: stateright's Explorer on the model of the configuration
//! the other flags give, its states told in the patent's terms
//! ([`model::explorer`]). It prints the URL and serves until Ctrl-C (SIGINT) or SIGTERM,
//! which stops it, naming the signal, with exit 3 (the Explorer claims no verdict; see the exit contract in
//! [`crate::verdict`]). `--depth` bounds its steps and search; `--states-max` and
//! `--timeout`, which stateright's Explorer cannot honour, are refused, as is an
//! address that cannot be listened on (bad input, exit 2).

use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result};
use model::CheckConfig;

use crate::verdict::Exit;

/// Serves the Explorer for `cfg` on `addr` (port 0: a free port, printed) until the
/// process is interrupted.
pub fn serve(cfg: &CheckConfig, addr: SocketAddr) -> Result<Exit> {
    // A flag the Explorer cannot honour is refused in the flag's words, not as a
    // model setting.
    model::explorer::refuse_budgets(cfg).map_err(|e| match e {
        model::ModelError::Config(m) => anyhow::anyhow!(m),
        e => e.into(),
    })?;
    model::explorer::OneWayMirror::new(cfg)?;
    // Resolve the port (0 means any free one) and fail here, typed, if it is taken.
    let addr = TcpListener::bind(addr)
        .and_then(|l| l.local_addr())
        .with_context(|| format!("--serve {addr}: cannot listen"))?;
    crate::interrupt::on_first(|signal| {
        tell!("explorer stopped ({signal}): no verdict claimed; exit 3");
        std::process::exit(i32::from(Exit::Incomplete.code()));
    })
    .context("cannot wait for a signal to stop the Explorer")?;
    say!("model: {}", cfg.model_flags());
    say!("explorer: http://{addr}/");
    say!(
        "  states in the patent's terms; \"Run to completion\" searches the whole space and \
         links each counterexample; a path is http://{addr}/#/steps/0/<action index>/…"
    );
    say!("  stop with Ctrl-C or SIGTERM (exit 3: the Explorer claims no verdict)");
    model::explorer::serve(cfg, addr)?;
    Ok(Exit::Incomplete)
}
