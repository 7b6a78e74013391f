//! The simulated world: the real engine device, the event queue, the transactions'
//! state machines and the backup policy's control flow, driven one event at a time.
//!
//! Every engine call happens at one instant of virtual time (the engine's state
//! changes at once, under the device's own locks); the device model only decides when
//! the call *completes*, which is when the transaction may take its next step. A
//! read-modify-write of a record is one instant too (a block latch): re-read the
//! block, patch the record, write the block.

use std::collections::VecDeque;

use engine::{Device, IoCost, MemStore, Vlun};
use rand_chacha::ChaCha8Rng;

use crate::clock::{EventQueue, Tick};
use crate::cost::{Outcome, TxnTimeline, Wait, WaitKind};
use crate::device_model::DeviceModel;
use crate::error::SimError;
use crate::locks::{Acquire, LockTable, Slot};
use crate::policy::Policy;
use crate::record::{
    block_digest, read_record, stamp_of, write_record, Event, History, Layout, TxnId,
};
use crate::rng::{self, Component};
use crate::scenario::{Discipline, Granularity, Scenario};
use crate::txn::{Op, TxnSpec};
use crate::workload::Workload;

/// What the queue holds. Transaction events carry the slot's generation, so an event
/// for a recycled slot is recognised and dropped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ev {
    Arrive { client: Option<u32> },
    Retry { slot: Slot, gen: u32 },
    Resume { slot: Slot, gen: u32 },
    IoDone { slot: Slot, gen: u32 },
    ComputeDone { slot: Slot, gen: u32 },
    Request,
    BReady,
    ArchiveDone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Queued,
    Locking,
    Gate,
    Reading,
    Computing,
    Writing,
    RollingBack,
    Backoff,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaitOn {
    Lock(u32),
    /// A type (b) area (the lock id asked for).
    TypeB(u32),
}

/// One transaction attempt in flight. Slots are recycled; vectors keep their capacity.
#[derive(Debug)]
struct Txn {
    id: TxnId,
    gen: u32,
    label: u32,
    client: Option<u32>,
    process: Option<u32>,
    pool_seat: Option<(u32, usize)>,
    ops: Vec<Op>,
    compute_ticks: Tick,
    arrived: Tick,
    /// Arrival of the first attempt (retries keep it): age for deadlock victims.
    origin: Tick,
    /// Attempts before this one (deadlock victims retry).
    retries: u32,
    admitted: Option<Tick>,
    vlun: Vlun,
    old: bool,
    begun: bool,
    stage: Stage,
    /// Conservative: every lock, sorted; incremental: filled as taken.
    locks: Vec<u32>,
    next_lock: usize,
    held: Vec<u32>,
    op: usize,
    values: Vec<i64>,
    /// Block granularity: the blocks read, as last seen/written (the txn holds them).
    cache: Vec<(u64, Vec<u8>)>,
    /// Rollback data: (record or block id, bytes before the first write).
    before: Vec<(u64, Vec<u8>)>,
    waiting: Option<(WaitKind, Tick)>,
    waiting_on: Option<WaitOn>,
    gate_wait: Tick,
    abort_planned: bool,
    waits: Vec<Wait>,
}

impl Txn {
    fn empty() -> Self {
        Txn {
            id: 0,
            gen: 0,
            label: 0,
            client: None,
            process: None,
            pool_seat: None,
            ops: Vec::new(),
            compute_ticks: 0,
            arrived: 0,
            origin: 0,
            retries: 0,
            admitted: None,
            vlun: Vlun::A,
            old: false,
            begun: false,
            stage: Stage::Done,
            locks: Vec::new(),
            next_lock: 0,
            held: Vec::new(),
            op: 0,
            values: Vec::new(),
            cache: Vec::new(),
            before: Vec::new(),
            waiting: None,
            waiting_on: None,
            gate_wait: 0,
            abort_planned: false,
            waits: Vec::new(),
        }
    }
}

/// Fig 4/5's processes: the seats that take transactions from queue 502.
#[derive(Debug)]
struct Pool {
    after: Vec<u32>,
    labels: Vec<u32>,
    busy: Vec<bool>,
    generation: u32,
}

/// Running sums of the costs.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub committed: u64,
    pub aborted: u64,
    pub deadlock_aborts: u64,
    pub logical_reads: u64,
    pub logical_writes: u64,
    pub io: IoCostSum,
    pub lock_waits: u64,
    pub lock_wait_total: Tick,
    pub lock_wait_max: Tick,
    pub admission: Vec<Tick>,
    pub response: Vec<Tick>,
    pub unavailable: Tick,
}

/// IoCost summed in u64.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IoCostSum {
    pub reads: u64,
    pub writes: u64,
    pub lookups: u64,
    pub updates: u64,
}

impl IoCostSum {
    fn add(&mut self, c: &IoCost) {
        self.reads += u64::from(c.total_reads());
        self.writes += u64::from(c.total_writes());
        self.lookups += u64::from(c.table_lookups);
        self.updates += u64::from(c.table_updates());
    }
}

pub(crate) struct World<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) policy: Policy,
    pub(crate) layout: Layout,
    pub(crate) dev: Device<MemStore>,
    pub(crate) q: EventQueue<Ev>,
    device_model: DeviceModel,
    workload: Box<dyn Workload>,
    locks: LockTable,
    txns: Vec<Txn>,
    free_slots: Vec<Slot>,
    next_id: TxnId,
    pub(crate) history: Option<History>,
    pub(crate) timeline: Vec<TxnTimeline>,
    pub(crate) tally: Tally,
    pub(crate) marks: crate::cost::Marks,
    aborts_rng: ChaCha8Rng,
    backoff_rng: ChaCha8Rng,
    buf: Vec<u8>,
    // Policy state.
    split_done: bool,
    gate_open: bool,
    gate_closed_since: Tick,
    gate_waiters: Vec<Slot>,
    quiesce_pending: bool,
    a_consistent_done: bool,
    active: u32,
    old_active: u32,
    pool: Option<Pool>,
    queue_502: VecDeque<Slot>,
}

fn engine_err(at: Tick) -> impl Fn(engine::Error) -> SimError {
    move |source| SimError::Engine { at, source }
}

impl<'a> World<'a> {
    pub(crate) fn new(scenario: &'a Scenario, policy: Policy, seed: u64) -> Result<Self, SimError> {
        let layout = scenario.validate()?;
        let variant = match policy {
            Policy::Owm(v) => v,
            _ => scenario.backup.baseline_variant,
        };
        let dev = Device::in_memory(variant, layout.block_size, layout.volume_blocks)
            .map_err(engine_err(0))?;
        let workload = scenario.workload.generator(
            rng::stream(seed, Component::Arrivals),
            rng::stream(seed, Component::Shapes),
        );
        // The initial image: every record's value, stamp 0.
        let mut initial = vec![0u8; layout.image_bytes()];
        for r in 0..layout.records() {
            let off = layout.offset_in_image(r);
            write_record(&mut initial[off..], workload.initial_value(r), 0);
        }
        for (b, chunk) in initial.chunks(layout.block_size).enumerate() {
            dev.write(Vlun::A, b as u64, chunk).map_err(engine_err(0))?;
        }
        let lock_count = match scenario.locking.granularity {
            Granularity::Record => layout.records(),
            Granularity::Block => layout.volume_blocks,
        } as usize;
        let mut type_b = Vec::new();
        for &b in &scenario.locking.type_b_blocks {
            match scenario.locking.granularity {
                Granularity::Block => type_b.push(b as u32),
                Granularity::Record => {
                    let rpb = layout.records_per_block();
                    type_b.extend((b * rpb..(b + 1) * rpb).map(|r| r as u32));
                }
            }
        }
        let history = scenario.record_history.then(|| {
            let mut h = History::new(layout, initial);
            h.sum_conserved = scenario.workload.conserves_sum();
            h.gate_wait_limit_ticks = policy
                .is_owm()
                .then_some(scenario.backup.setup_window_ticks);
            h.seed = Some(seed);
            h
        });
        let pool = scenario
            .workload
            .process_pool()
            .map(|(before, after)| Pool {
                busy: vec![false; before.len()],
                labels: before,
                after,
                generation: 0,
            });
        Ok(World {
            scenario,
            policy,
            layout,
            dev,
            q: EventQueue::new(),
            device_model: DeviceModel::new(
                scenario.device.clone(),
                rng::stream(seed, Component::Device),
            ),
            workload,
            locks: LockTable::new(lock_count, &type_b),
            txns: Vec::new(),
            free_slots: Vec::new(),
            next_id: 0,
            history,
            timeline: Vec::new(),
            tally: Tally::default(),
            marks: crate::cost::Marks::default(),
            aborts_rng: rng::stream(seed, Component::Aborts),
            backoff_rng: rng::stream(seed, Component::Backoff),
            buf: vec![0u8; layout.block_size],
            split_done: false,
            gate_open: true,
            gate_closed_since: 0,
            gate_waiters: Vec::new(),
            quiesce_pending: false,
            a_consistent_done: false,
            active: 0,
            old_active: 0,
            pool,
            queue_502: VecDeque::new(),
        })
    }

    fn log(&mut self, event: Event) {
        if let Some(h) = self.history.as_mut() {
            h.push(self.q.now(), event);
        }
    }

    /// Runs to the end: every arrival served, the backup done, the queue empty.
    pub(crate) fn run(&mut self) -> Result<(), SimError> {
        for (t, client) in self.workload.start() {
            self.q.schedule_at(t, Ev::Arrive { client });
        }
        if !self.scenario.backup.disabled {
            let at = self
                .scenario
                .backup
                .request_at_ticks
                .unwrap_or_else(|| self.scenario.workload.default_request_ticks());
            self.q.schedule_at(at, Ev::Request);
        }
        let limits = &self.scenario.limits;
        while let Some((now, ev)) = self.q.pop() {
            if self.q.fired() > limits.events_max {
                return Err(SimError::Limit(format!(
                    "more than {} events",
                    limits.events_max
                )));
            }
            if now > limits.time_max_ticks {
                return Err(SimError::Limit(format!(
                    "virtual time past {} ticks",
                    limits.time_max_ticks
                )));
            }
            self.fire(ev)?;
        }
        self.finish_run()
    }

    fn fire(&mut self, ev: Ev) -> Result<(), SimError> {
        let live = |w: &Self, slot: Slot, gen: u32| w.txns[slot as usize].gen == gen;
        match ev {
            Ev::Arrive { client } => self.arrive(client),
            Ev::Retry { slot, gen } if live(self, slot, gen) => self.start(slot),
            Ev::Resume { slot, gen } if live(self, slot, gen) => self.resume(slot),
            Ev::IoDone { slot, gen } if live(self, slot, gen) => self.io_done(slot),
            Ev::ComputeDone { slot, gen } if live(self, slot, gen) => {
                self.txns[slot as usize].stage = Stage::Writing;
                self.txns[slot as usize].op = 0;
                self.step(slot)
            }
            Ev::Request => self.request(),
            Ev::BReady => self.b_ready(),
            Ev::ArchiveDone => self.archive_done(),
            _ => Ok(()),
        }
    }

    // ---- arrivals, the pool, admission ----

    fn new_slot(&mut self) -> Result<Slot, SimError> {
        if u64::from(self.next_id) >= self.scenario.limits.attempts_max {
            return Err(SimError::Limit(format!(
                "more than {} transaction attempts",
                self.scenario.limits.attempts_max
            )));
        }
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.txns.push(Txn::empty());
                (self.txns.len() - 1) as Slot
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let t = &mut self.txns[slot as usize];
        t.id = id;
        t.gen = t.gen.wrapping_add(1);
        t.process = None;
        t.pool_seat = None;
        t.admitted = None;
        t.vlun = Vlun::A;
        t.old = false;
        t.begun = false;
        t.locks.clear();
        t.next_lock = 0;
        t.held.clear();
        t.op = 0;
        t.values.clear();
        t.cache.clear();
        t.before.clear();
        t.waiting = None;
        t.waiting_on = None;
        t.gate_wait = 0;
        t.abort_planned = false;
        t.waits.clear();
        t.arrived = self.q.now();
        t.origin = t.arrived;
        t.retries = 0;
        Ok(slot)
    }

    fn arrive(&mut self, client: Option<u32>) -> Result<(), SimError> {
        let now = self.q.now();
        if client.is_none() {
            if let Some(t) = self.workload.next_arrival(now) {
                self.q.schedule_at(t, Ev::Arrive { client: None });
            }
        }
        let spec = self.workload.shape(client);
        let slot = self.new_slot()?;
        self.load_spec(slot, spec);
        if self.pool.is_some() {
            let t = &mut self.txns[slot as usize];
            t.stage = Stage::Queued;
            t.waiting = Some((WaitKind::Queue, now));
            self.queue_502.push_back(slot);
            self.dispatch()
        } else {
            self.start(slot)
        }
    }

    fn load_spec(&mut self, slot: Slot, spec: TxnSpec) {
        let t = &mut self.txns[slot as usize];
        t.label = spec.label;
        t.client = spec.client;
        t.ops = spec.ops;
        t.compute_ticks = spec.compute_ticks;
    }

    /// Hands queued transactions to free processes (Fig 4/5).
    fn dispatch(&mut self) -> Result<(), SimError> {
        loop {
            let Some(pool) = self.pool.as_mut() else {
                return Ok(());
            };
            let Some(seat) = pool.busy.iter().position(|b| !b) else {
                return Ok(());
            };
            let Some(slot) = self.queue_502.pop_front() else {
                return Ok(());
            };
            pool.busy[seat] = true;
            let (label, generation) = (pool.labels[seat], pool.generation);
            let t = &mut self.txns[slot as usize];
            t.process = Some(label);
            t.pool_seat = Some((generation, seat));
            self.end_wait(slot);
            self.start(slot)?;
        }
    }

    /// The attempt starts working: conservative 2PL takes its locks first.
    fn start(&mut self, slot: Slot) -> Result<(), SimError> {
        if let Some((WaitKind::Backoff, _)) = self.txns[slot as usize].waiting {
            self.end_wait(slot);
        }
        match self.scenario.locking.discipline {
            Discipline::Conservative => {
                let mut locks = std::mem::take(&mut self.txns[slot as usize].locks);
                locks.clear();
                locks.extend(
                    self.txns[slot as usize]
                        .ops
                        .iter()
                        .map(|op| self.lock_of(op.record())),
                );
                locks.sort_unstable();
                locks.dedup();
                let t = &mut self.txns[slot as usize];
                t.locks = locks;
                t.next_lock = 0;
                t.stage = Stage::Locking;
                self.lock_step(slot)
            }
            Discipline::Incremental => self.try_begin(slot),
        }
    }

    fn lock_of(&self, record: u64) -> u32 {
        match self.scenario.locking.granularity {
            Granularity::Record => record as u32,
            Granularity::Block => self.layout.block_of(record) as u32,
        }
    }

    /// Conservative 2PL: takes the locks in ascending order, then asks to begin.
    fn lock_step(&mut self, slot: Slot) -> Result<(), SimError> {
        loop {
            let t = &self.txns[slot as usize];
            let Some(&lock) = t.locks.get(t.next_lock) else {
                return self.try_begin(slot);
            };
            if !self.take_lock(slot, lock, self.split_done)? {
                return Ok(());
            }
            self.txns[slot as usize].next_lock += 1;
        }
    }

    /// Asks for a lock; true when held now, false when the attempt waits (or was
    /// aborted as a deadlock victim).
    fn take_lock(&mut self, slot: Slot, lock: u32, is_new: bool) -> Result<bool, SimError> {
        let now = self.q.now();
        match self.locks.acquire(lock, slot, is_new) {
            Acquire::Granted => {
                let t = &mut self.txns[slot as usize];
                if !t.held.contains(&lock) {
                    t.held.push(lock);
                }
                Ok(true)
            }
            Acquire::Queued { holder } => {
                let t = &mut self.txns[slot as usize];
                t.waiting = Some((WaitKind::Lock, now));
                t.waiting_on = Some(WaitOn::Lock(lock));
                if self.scenario.locking.discipline == Discipline::Incremental {
                    if let Some(cycle) = self.find_cycle(slot, holder) {
                        self.break_cycle(slot, cycle)?;
                    }
                }
                Ok(false)
            }
            Acquire::TypeB => {
                let t = &mut self.txns[slot as usize];
                t.waiting = Some((WaitKind::TypeB, now));
                t.waiting_on = Some(WaitOn::TypeB(lock));
                if self.scenario.locking.discipline == Discipline::Incremental {
                    let olds: Vec<Slot> = self.active_old().collect();
                    if let Some(cycle) = olds.into_iter().find_map(|o| self.find_cycle(slot, o)) {
                        self.break_cycle(slot, cycle)?;
                    }
                }
                Ok(false)
            }
        }
    }

    /// Aborts the youngest attempt of a wait-for cycle (latest first arrival, so an
    /// old transaction is never starved by younger ones). Every member is waiting for
    /// a lock during its reads, so it has written nothing.
    fn break_cycle(&mut self, me: Slot, mut cycle: Vec<Slot>) -> Result<(), SimError> {
        cycle.push(me);
        let victim = cycle
            .iter()
            .copied()
            .max_by_key(|&s| (self.txns[s as usize].origin, self.txns[s as usize].id))
            .expect("a cycle has members");
        match self.txns[victim as usize].waiting_on {
            Some(WaitOn::Lock(l) | WaitOn::TypeB(l)) => self.locks.withdraw(l, victim),
            None => debug_assert!(false, "a cycle member is not waiting"),
        }
        self.deadlock_abort(victim)
    }

    /// When `me` waiting for `first` closes a cycle in the wait-for graph, the other
    /// members of that cycle (a type (b) wait waits for every active OLD attempt).
    fn find_cycle(&self, me: Slot, first: Slot) -> Option<Vec<Slot>> {
        let mut stack = vec![(first, me)];
        let mut parent: Vec<(Slot, Slot)> = Vec::new();
        while let Some((x, from)) = stack.pop() {
            if x == me {
                let mut path = Vec::new();
                let mut cur = from;
                while cur != me {
                    path.push(cur);
                    cur = parent.iter().find(|(c, _)| *c == cur).expect("visited").1;
                }
                return Some(path);
            }
            if parent.iter().any(|(c, _)| *c == x) {
                continue;
            }
            parent.push((x, from));
            match self.txns[x as usize].waiting_on {
                Some(WaitOn::Lock(l)) => stack.extend(self.locks.holder(l).map(|h| (h, x))),
                Some(WaitOn::TypeB(_)) => stack.extend(self.active_old().map(|o| (o, x))),
                None => {}
            }
        }
        None
    }

    fn active_old(&self) -> impl Iterator<Item = Slot> + '_ {
        self.txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.old && t.begun && t.stage != Stage::Done)
            .map(|(i, _)| i as Slot)
    }

    fn try_begin(&mut self, slot: Slot) -> Result<(), SimError> {
        if self.gate_open {
            return self.begin(slot);
        }
        let t = &mut self.txns[slot as usize];
        t.stage = Stage::Gate;
        t.waiting = Some((WaitKind::Gate, self.q.now()));
        self.gate_waiters.push(slot);
        Ok(())
    }

    fn begin(&mut self, slot: Slot) -> Result<(), SimError> {
        let now = self.q.now();
        let gate_wait = match self.txns[slot as usize].waiting {
            Some((WaitKind::Gate, since)) => now - since,
            _ => 0,
        };
        self.end_wait(slot);
        let abort = rng::chance(&mut self.aborts_rng, self.scenario.abort_probability);
        let split = self.split_done;
        let t = &mut self.txns[slot as usize];
        t.vlun = if split { Vlun::B } else { Vlun::A };
        t.old = !split;
        t.begun = true;
        t.admitted = Some(now);
        t.gate_wait = gate_wait;
        t.abort_planned = abort;
        t.stage = Stage::Reading;
        t.op = 0;
        let (id, vlun) = (t.id, t.vlun);
        self.active += 1;
        if split {
            self.tally.admission.push(gate_wait);
        }
        self.log(Event::Begin {
            txn: id,
            vlun,
            gate_wait_ticks: gate_wait,
        });
        self.step(slot)
    }

    fn end_wait(&mut self, slot: Slot) {
        let now = self.q.now();
        let record_timeline = self.scenario.record_timeline;
        let t = &mut self.txns[slot as usize];
        t.waiting_on = None;
        if let Some((kind, since)) = t.waiting.take() {
            if matches!(kind, WaitKind::Lock | WaitKind::TypeB) {
                let d = now - since;
                self.tally.lock_waits += 1;
                self.tally.lock_wait_total += d;
                self.tally.lock_wait_max = self.tally.lock_wait_max.max(d);
            }
            if record_timeline {
                t.waits.push(Wait {
                    kind,
                    from_ticks: since,
                    until_ticks: now,
                });
            }
        }
    }

    fn resume(&mut self, slot: Slot) -> Result<(), SimError> {
        match self.txns[slot as usize].stage {
            Stage::Locking => self.lock_step(slot),
            Stage::Reading => self.step(slot),
            Stage::Gate => self.begin(slot),
            _ => Ok(()),
        }
    }

    // ---- the transaction's block I/O ----

    fn io_done(&mut self, slot: Slot) -> Result<(), SimError> {
        if self.txns[slot as usize].stage == Stage::RollingBack {
            let id = self.txns[slot as usize].id;
            self.log(Event::Abort { txn: id });
            return self.finish(slot, Outcome::Aborted);
        }
        self.step(slot)
    }

    fn complete_io(&mut self, slot: Slot, cost: &IoCost) {
        let now = self.q.now();
        self.tally.io.add(cost);
        let at = self.device_model.complete_at(now, cost);
        let gen = self.txns[slot as usize].gen;
        self.q.schedule_at(at, Ev::IoDone { slot, gen });
    }

    /// The next step of a begun attempt: one read, the compute, one write, or the end.
    fn step(&mut self, slot: Slot) -> Result<(), SimError> {
        match self.txns[slot as usize].stage {
            Stage::Reading => self.read_step(slot),
            Stage::Writing => self.write_step(slot),
            _ => Ok(()),
        }
    }

    fn read_step(&mut self, slot: Slot) -> Result<(), SimError> {
        let now = self.q.now();
        let t = &self.txns[slot as usize];
        let Some(&op) = t.ops.get(t.op) else {
            let t = &mut self.txns[slot as usize];
            t.stage = Stage::Computing;
            let (gen, c) = (t.gen, t.compute_ticks);
            self.q.schedule_in(c, Ev::ComputeDone { slot, gen });
            return Ok(());
        };
        let record = op.record();
        if self.scenario.locking.discipline == Discipline::Incremental {
            let lock = self.lock_of(record);
            let is_new = !self.txns[slot as usize].old;
            if !self.txns[slot as usize].held.contains(&lock)
                && !self.take_lock(slot, lock, is_new)?
            {
                return Ok(());
            }
        }
        let block = self.layout.block_of(record);
        let (vlun, id) = (self.txns[slot as usize].vlun, self.txns[slot as usize].id);
        let cost = self
            .dev
            .read(vlun, block, &mut self.buf)
            .map_err(engine_err(now))?;
        self.tally.logical_reads += 1;
        let off = self.layout.offset_in_block(record);
        let (value, _) = read_record(&self.buf[off..]);
        if self.history.is_some() {
            let digest = block_digest(&self.buf);
            self.log(Event::ReadBlock {
                txn: id,
                vlun,
                block,
                digest,
            });
            self.log(Event::ReadRecord {
                txn: id,
                record,
                value,
            });
        }
        let gran = self.scenario.locking.granularity;
        let t = &mut self.txns[slot as usize];
        t.values.push(value);
        if gran == Granularity::Block {
            match t.cache.iter_mut().find(|(b, _)| *b == block) {
                Some((_, c)) => c.copy_from_slice(&self.buf),
                None => t.cache.push((block, self.buf.clone())),
            }
        }
        t.op += 1;
        self.complete_io(slot, &cost);
        Ok(())
    }

    fn write_step(&mut self, slot: Slot) -> Result<(), SimError> {
        let now = self.q.now();
        let t = &self.txns[slot as usize];
        let next = (t.op..t.ops.len()).find(|&i| t.ops[i].writes());
        let Some(i) = next else {
            return if self.txns[slot as usize].abort_planned {
                self.rollback(slot)
            } else {
                let id = self.txns[slot as usize].id;
                self.log(Event::Commit { txn: id });
                self.finish(slot, Outcome::Committed)
            };
        };
        let Op::Add { record, delta } = t.ops[i] else {
            unreachable!("writes() is true only for Add");
        };
        let value = t.values[i].wrapping_add(delta);
        let (vlun, id) = (t.vlun, t.id);
        let block = self.layout.block_of(record);
        let off = self.layout.offset_in_block(record);
        let mut cost = IoCost::default();
        let gran = self.scenario.locking.granularity;
        match gran {
            Granularity::Block => {
                let (_, c) = t
                    .cache
                    .iter()
                    .find(|(b, _)| *b == block)
                    .expect("a block is read before it is written");
                self.buf.copy_from_slice(c);
            }
            Granularity::Record => {
                cost = self
                    .dev
                    .read(vlun, block, &mut self.buf)
                    .map_err(engine_err(now))?;
                if self.history.is_some() {
                    let digest = block_digest(&self.buf);
                    self.log(Event::ReadBlock {
                        txn: id,
                        vlun,
                        block,
                        digest,
                    });
                }
            }
        }
        // Before-image for rollback, on the first write of this record / block.
        let key = match gran {
            Granularity::Record => record,
            Granularity::Block => block,
        };
        let rs = self.layout.record_size;
        let t = &mut self.txns[slot as usize];
        if !t.before.iter().any(|(k, _)| *k == key) {
            let bytes = match gran {
                Granularity::Record => self.buf[off..off + rs].to_vec(),
                Granularity::Block => self.buf.clone(),
            };
            t.before.push((key, bytes));
        }
        write_record(&mut self.buf[off..], value, stamp_of(id));
        let w = self
            .dev
            .write(vlun, block, &self.buf)
            .map_err(engine_err(now))?;
        cost.add(w);
        self.tally.logical_writes += 1;
        if gran == Granularity::Block {
            if let Some((_, c)) = t.cache.iter_mut().find(|(b, _)| *b == block) {
                c.copy_from_slice(&self.buf);
            }
        }
        t.op = i + 1;
        if self.history.is_some() {
            let digest = block_digest(&self.buf);
            self.log(Event::WriteBlock {
                txn: id,
                vlun,
                block,
                digest,
            });
            self.log(Event::WriteRecord {
                txn: id,
                record,
                value,
            });
        }
        self.complete_io(slot, &cost);
        Ok(())
    }

    /// Writes the before-images back (newest first), then aborts.
    fn rollback(&mut self, slot: Slot) -> Result<(), SimError> {
        let now = self.q.now();
        let befores = std::mem::take(&mut self.txns[slot as usize].before);
        let (vlun, id) = (self.txns[slot as usize].vlun, self.txns[slot as usize].id);
        let mut cost = IoCost::default();
        let gran = self.scenario.locking.granularity;
        for (key, bytes) in befores.iter().rev() {
            let block = match gran {
                Granularity::Record => {
                    let block = self.layout.block_of(*key);
                    let c = self
                        .dev
                        .read(vlun, block, &mut self.buf)
                        .map_err(engine_err(now))?;
                    cost.add(c);
                    let off = self.layout.offset_in_block(*key);
                    self.buf[off..off + bytes.len()].copy_from_slice(bytes);
                    block
                }
                Granularity::Block => {
                    self.buf.copy_from_slice(bytes);
                    *key
                }
            };
            let c = self
                .dev
                .write(vlun, block, &self.buf)
                .map_err(engine_err(now))?;
            cost.add(c);
            self.tally.logical_writes += 1;
            if self.history.is_some() {
                let digest = block_digest(&self.buf);
                self.log(Event::WriteBlock {
                    txn: id,
                    vlun,
                    block,
                    digest,
                });
            }
        }
        self.txns[slot as usize].before = befores;
        self.txns[slot as usize].stage = Stage::RollingBack;
        self.complete_io(slot, &cost);
        Ok(())
    }

    /// A deadlock victim: it has written nothing yet (incremental 2PL takes every
    /// lock during its reads), so it just aborts, releases, and retries after a
    /// random backoff as a new attempt.
    fn deadlock_abort(&mut self, slot: Slot) -> Result<(), SimError> {
        debug_assert!(self.txns[slot as usize].before.is_empty());
        self.end_wait(slot);
        self.tally.deadlock_aborts += 1;
        let id = self.txns[slot as usize].id;
        self.log(Event::Abort { txn: id });
        let now = self.q.now();
        // Exponential backoff: a victim that keeps colliding waits longer each time.
        let retries = self.txns[slot as usize].retries + 1;
        let window = self.scenario.retry_backoff_ticks.max(1) << retries.min(10);
        let backoff = rng::uniform(&mut self.backoff_rng, 1, window);
        let (label, client, compute) = {
            let t = &self.txns[slot as usize];
            (t.label, t.client, t.compute_ticks)
        };
        let ops = std::mem::take(&mut self.txns[slot as usize].ops);
        let origin = self.txns[slot as usize].origin;
        self.finish_attempt(slot, Outcome::Aborted)?;
        let retry = self.new_slot()?;
        self.load_spec(
            retry,
            TxnSpec {
                label,
                client,
                ops,
                compute_ticks: compute,
            },
        );
        let t = &mut self.txns[retry as usize];
        t.origin = origin;
        t.retries = retries;
        t.stage = Stage::Backoff;
        t.waiting = Some((WaitKind::Backoff, now));
        let gen = t.gen;
        self.q.schedule_in(backoff, Ev::Retry { slot: retry, gen });
        Ok(())
    }

    /// The attempt ends for good (commit or voluntary abort).
    fn finish(&mut self, slot: Slot, outcome: Outcome) -> Result<(), SimError> {
        let client = self.txns[slot as usize].client;
        self.finish_attempt(slot, outcome)?;
        if let Some(c) = client {
            if let Some(t) = self.workload.client_done(c, self.q.now()) {
                self.q.schedule_at(t, Ev::Arrive { client: Some(c) });
            }
        }
        Ok(())
    }

    /// Ends an attempt: timeline row, locks released, policy told.
    fn finish_attempt(&mut self, slot: Slot, outcome: Outcome) -> Result<(), SimError> {
        let now = self.q.now();
        let t = &mut self.txns[slot as usize];
        t.stage = Stage::Done;
        match outcome {
            Outcome::Committed => {
                self.tally.committed += 1;
                self.tally.response.push(now - t.origin);
            }
            Outcome::Aborted => self.tally.aborted += 1,
            Outcome::Unfinished => {}
        }
        if self.scenario.record_timeline {
            self.timeline.push(TxnTimeline {
                txn: t.id,
                label: t.label,
                process: t.process,
                old: t.begun && t.old,
                vlun: t.begun.then_some(t.vlun),
                arrived_ticks: t.arrived,
                admitted_ticks: t.admitted,
                ended_ticks: Some(now),
                outcome,
                waits: t.waits.clone(),
            });
        }
        let held = std::mem::take(&mut t.held);
        let (begun, old, seat) = (t.begun, t.old, t.pool_seat);
        for &lock in &held {
            if let Some(next) = self.locks.release(lock, slot) {
                self.grant(next, lock);
            }
        }
        self.txns[slot as usize].held = held;
        self.txns[slot as usize].held.clear();
        self.txns[slot as usize].gen = self.txns[slot as usize].gen.wrapping_add(1);
        self.free_slots.push(slot);
        if let (Some(pool), Some((generation, seat))) = (self.pool.as_mut(), seat) {
            if pool.generation == generation {
                pool.busy[seat] = false;
            }
        }
        if begun {
            self.active -= 1;
            if old && self.split_done {
                self.old_active -= 1;
            }
        }
        self.after_end()?;
        self.dispatch()
    }

    /// A released lock passed to a waiter: it holds it now and resumes.
    fn grant(&mut self, slot: Slot, lock: u32) {
        self.end_wait(slot);
        let t = &mut self.txns[slot as usize];
        t.held.push(lock);
        let gen = t.gen;
        if t.stage == Stage::Locking {
            t.next_lock += 1;
        }
        self.q.schedule_in(0, Ev::Resume { slot, gen });
    }

    // ---- the backup policy ----

    fn close_gate(&mut self) {
        if self.gate_open {
            self.gate_open = false;
            self.gate_closed_since = self.q.now();
        }
    }

    fn request(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.marks.request = Some(now);
        match self.policy {
            Policy::Owm(_) => {
                self.close_gate();
                self.split()?;
                self.locks.hold_type_b();
                let setup = self.scenario.backup.setup_window_ticks;
                self.q.schedule_in(setup, Ev::BReady);
                self.after_end()
            }
            Policy::Quiesce => {
                self.close_gate();
                self.quiesce_pending = true;
                self.after_end()
            }
            Policy::CrashConsistent => {
                self.split()?;
                // Everyone in flight carries on through VLUN B; A is copied as it is.
                for t in self.txns.iter_mut() {
                    if t.begun && t.stage != Stage::Done {
                        t.vlun = Vlun::B;
                    }
                }
                self.marks.vlun_b_ready = Some(now);
                self.log(Event::BReady);
                self.declare_a_consistent()
            }
        }
    }

    fn split(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.dev.split().map_err(engine_err(now))?;
        self.split_done = true;
        self.old_active = self.active;
        self.marks.split = Some(now);
        self.log(Event::Split);
        if self.policy != Policy::Quiesce {
            if let Some(pool) = self.pool.as_mut() {
                // 503/504 finish what they hold; 507/508 take the queue from now on.
                pool.labels = pool.after.clone();
                pool.busy = vec![false; pool.labels.len()];
                pool.generation += 1;
            }
        }
        Ok(())
    }

    /// Called whenever an attempt ends (and at the request): A may be consistent now.
    fn after_end(&mut self) -> Result<(), SimError> {
        if self.quiesce_pending && self.active == 0 {
            self.quiesce_pending = false;
            self.split()?;
            self.declare_a_consistent()?;
            let setup = self.scenario.backup.setup_window_ticks;
            self.q.schedule_in(setup, Ev::BReady);
        }
        if self.policy.is_owm()
            && self.split_done
            && !self.a_consistent_done
            && self.old_active == 0
        {
            self.declare_a_consistent()?;
        }
        Ok(())
    }

    fn declare_a_consistent(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.a_consistent_done = true;
        self.marks.a_consistent = Some(now);
        if self.history.is_some() {
            let image = self.read_image(Vlun::A)?;
            self.log(Event::AConsistent { image });
        }
        for (slot, _) in self.locks.release_type_b() {
            let gen = self.txns[slot as usize].gen;
            self.end_wait(slot);
            self.q.schedule_in(0, Ev::Resume { slot, gen });
        }
        let copy = self.layout.volume_blocks * self.scenario.backup.archive_block_ticks;
        self.q.schedule_in(copy, Ev::ArchiveDone);
        Ok(())
    }

    fn b_ready(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        self.marks.vlun_b_ready = Some(now);
        self.log(Event::BReady);
        if !self.gate_open {
            self.gate_open = true;
            self.tally.unavailable += now - self.gate_closed_since;
        }
        let waiters = std::mem::take(&mut self.gate_waiters);
        for slot in waiters {
            self.begin(slot)?;
        }
        Ok(())
    }

    fn archive_done(&mut self) -> Result<(), SimError> {
        let now = self.q.now();
        let mut archive: Vec<u8> = Vec::new();
        if self.history.is_some() {
            archive.reserve(self.layout.image_bytes());
            self.dev.backup_a(&mut archive).map_err(engine_err(now))?;
        } else {
            self.dev
                .backup_a(&mut std::io::sink())
                .map_err(engine_err(now))?;
        }
        self.marks.archive_copy = Some(now);
        if self.history.is_some() {
            self.log(Event::Archive { image: archive });
        }
        self.dev.retire_a().map_err(engine_err(now))?;
        self.marks.retire = Some(now);
        let extra = self.dev.extra_space_blocks();
        self.log(Event::Retire {
            extra_space_blocks: extra,
        });
        Ok(())
    }

    /// The whole image of a VLUN, read outside the cost accounting (for the oracle).
    fn read_image(&mut self, vlun: Vlun) -> Result<Vec<u8>, SimError> {
        let now = self.q.now();
        let mut image = vec![0u8; self.layout.image_bytes()];
        for (b, chunk) in image.chunks_mut(self.layout.block_size).enumerate() {
            self.dev
                .read(vlun, b as u64, chunk)
                .map_err(engine_err(now))?;
        }
        Ok(image)
    }

    fn finish_run(&mut self) -> Result<(), SimError> {
        // Attempts still waiting (e.g. the run's limits cut them off) are reported.
        let unfinished: Vec<Slot> = self
            .txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.stage != Stage::Done)
            .map(|(i, _)| i as Slot)
            .collect();
        for slot in unfinished {
            let t = &self.txns[slot as usize];
            if self.scenario.record_timeline {
                self.timeline.push(TxnTimeline {
                    txn: t.id,
                    label: t.label,
                    process: t.process,
                    old: t.begun && t.old,
                    vlun: t.begun.then_some(t.vlun),
                    arrived_ticks: t.arrived,
                    admitted_ticks: t.admitted,
                    ended_ticks: None,
                    outcome: Outcome::Unfinished,
                    waits: t.waits.clone(),
                });
            }
        }
        if !self.gate_open {
            self.tally.unavailable += self.q.now() - self.gate_closed_since;
        }
        if self.history.is_some() {
            let live = if self.split_done { Vlun::B } else { Vlun::A };
            let image = self.read_image(live)?;
            self.log(Event::End { live: image });
        }
        self.timeline.sort_by_key(|r| r.txn);
        Ok(())
    }

    pub(crate) fn device_queue_ticks(&self) -> Tick {
        self.device_model.queued_ticks
    }
}
