//! `owm check --serve ADDR`: stateright's Explorer on the model of the configuration
//! the other flags give, its states told in the patent's terms
//! ([`model::explorer`]). It prints the URL and serves until Ctrl-C, which stops it
//! with exit 3 (the Explorer claims no verdict; see the exit contract in
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
    model::explorer::refuse_budgets(cfg)?;
    model::explorer::OneWayMirror::new(cfg)?;
    // Resolve the port (0 means any free one) and fail here, typed, if it is taken.
    let addr = TcpListener::bind(addr)
        .and_then(|l| l.local_addr())
        .with_context(|| format!("--serve {addr}: cannot listen"))?;
    let _ = ctrlc::set_handler(|| {
        tell!("explorer stopped (Ctrl-C): no verdict claimed; exit 3");
        std::process::exit(i32::from(Exit::Incomplete.code()));
    });
    say!("model: {}", cfg.model_flags());
    say!("explorer: http://{addr}/");
    say!(
        "  states in the patent's terms; \"Run to completion\" searches the whole space and \
         links each counterexample; a path is http://{addr}/#/steps/0/<action index>/…"
    );
    say!("  stop with Ctrl-C (exit 3: the Explorer claims no verdict)");
    model::explorer::serve(cfg, addr)?;
    Ok(Exit::Incomplete)
}
