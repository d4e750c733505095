//! Snapshot poses, delta-coded and bit-packed. Each avatar in a snapshot is sent
//! as the difference from the pose the client already holds for it in a *view*
//! it acknowledged, so a person standing still costs a few bits and a moving one
//! a few bytes. MessagePack cannot say "a 6-bit integer", so the poses travel as
//! one `bin` of packed bits; `docs/protocol.md` gives the layout bit by bit.
//!
//! A view is what a client holds after a snapshot: the base view's avatars, with
//! the snapshot's avatars replacing theirs, minus avatars not updated for
//! [`VIEW_MAX_AGE_TICKS`]. Server and client build it with the same function
//! ([`View::then`]), so they agree on every base without ever sending one.
//!
//! The difference is taken not from the held pose but from where that avatar
//! would be now if it kept moving as between its last two held poses
//! ([`View::predict`]): people move smoothly, so what is left is small.

use std::collections::{BTreeMap, VecDeque};

use bitstream_io::{BigEndian, BitRead, BitReader, BitWrite, BitWriter, BitsWritten};

use crate::codec::DecodeError;
use crate::limits::{MAX_SNAPSHOT_AVATARS, MAX_SNAPSHOT_OBJECTS};
use crate::messages::{AvatarPose, AvatarState, ObjectState, PeerId};
use crate::quant::{QuantPose, QuantQuat, QuantVec};

/// Bit widths a 4-bit width code selects. Three values share one width; 0 means
/// all three are zero (nothing changed). 35 bits hold anything the coding can
/// produce from i32 positions (a change less the body's change).
pub const WIDTHS: [u32; 16] = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 20, 35];
/// Oldest base a snapshot may refer to, in ticks (about a second at 30 Hz).
pub const MAX_BASE_AGE_TICKS: u32 = 32;
/// An avatar not updated for this many ticks drops out of the view (three
/// seconds); its next update is sent whole.
pub const VIEW_MAX_AGE_TICKS: u32 = 90;

/// Prediction only spans gaps of up to this many ticks (between the two held
/// poses, and from the newer one to the snapshot); beyond, the held pose is the base.
pub const MAX_PREDICTION_TICKS: u32 = 6;

/// One avatar or thing in a view: its newest update and the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry<P> {
    tick: u32,
    pose: P,
    previous: Option<(u32, P)>,
}

impl<P: Copy> Entry<P> {
    /// The pose at `tick` if it kept moving as between the two held poses
    /// (`line` extrapolates one pose); the held pose when there is no earlier
    /// one or a gap is too long.
    fn predict(&self, tick: u32, line: impl Fn(P, P, i64, i64) -> P) -> P {
        let Some((then, before)) = self.previous else { return self.pose };
        let (span, ahead) = (self.tick.wrapping_sub(then), tick.wrapping_sub(self.tick));
        if span == 0 || span > MAX_PREDICTION_TICKS || ahead > MAX_PREDICTION_TICKS {
            return self.pose;
        }
        line(self.pose, before, i64::from(ahead), i64::from(span))
    }
}

/// The poses a client holds after one snapshot: for each avatar and each
/// shared thing, the tick of its newest update and that pose, and the update
/// before it. Things never drop out: one at rest is not sent again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    entries: BTreeMap<PeerId, Entry<AvatarPose>>,
    objects: BTreeMap<u16, Entry<QuantPose>>,
}

impl View {
    /// The pose held for `id`, if any.
    pub fn get(&self, id: PeerId) -> Option<&AvatarPose> {
        self.entries.get(&id).map(|e| &e.pose)
    }

    /// Where `id` would be at `tick` if it kept moving as between its last two
    /// held poses: the base its next update is coded against. The held pose
    /// when there is no earlier one or a gap is too long.
    pub fn predict(&self, id: PeerId, tick: u32) -> Option<AvatarPose> {
        Some(self.entries.get(&id)?.predict(tick, |now, before, ahead, span| {
            let part = |now: QuantPose, was: QuantPose| extrapolate(now, was, ahead, span);
            AvatarPose {
                body: part(now.body, before.body),
                head: part(now.head, before.head),
                hands: match (now.hands, before.hands) {
                    (Some([l, r]), Some([lb, rb])) => Some([part(l, lb), part(r, rb)]),
                    (hands, _) => hands,
                },
            }
        }))
    }

    /// The pose held for shared thing `id`, if any.
    pub fn object(&self, id: u16) -> Option<&QuantPose> {
        self.objects.get(&id).map(|e| &e.pose)
    }

    /// Where thing `id` would be at `tick`, as [`View::predict`] for avatars.
    pub fn predict_object(&self, id: u16, tick: u32) -> Option<QuantPose> {
        Some(self.objects.get(&id)?.predict(tick, extrapolate))
    }

    /// How many avatars the view holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the view holds nobody.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The view after snapshot `tick` carried `avatars` on top of this one.
    pub fn then(&self, tick: u32, avatars: &[AvatarState]) -> View {
        self.then_with(tick, avatars, &[])
    }

    /// The view after snapshot `tick` carried `avatars` and `objects` on top of this one.
    pub fn then_with(&self, tick: u32, avatars: &[AvatarState], objects: &[ObjectState]) -> View {
        let mut entries: BTreeMap<_, _> =
            self.entries.iter().filter(|(_, e)| tick.wrapping_sub(e.tick) <= VIEW_MAX_AGE_TICKS).map(|(id, e)| (*id, *e)).collect();
        for state in avatars {
            let previous = entries.get(&state.id).map(|e: &Entry<_>| (e.tick, e.pose));
            entries.insert(state.id, Entry { tick, pose: canonical(state.pose), previous });
        }
        let mut kept = self.objects.clone();
        for state in objects {
            let previous = kept.get(&state.id).map(|e| (e.tick, e.pose));
            let mut pose = state.pose;
            pose.rot.0 %= 4;
            kept.insert(state.id, Entry { tick, pose, previous });
        }
        View { entries, objects: kept }
    }
}

/// `now + (now − was) × ahead / span`, per value, rounded toward zero and
/// clamped to the value's type. Rotations only when both have the same largest
/// component (otherwise `now`'s rotation).
fn extrapolate(now: QuantPose, was: QuantPose, ahead: i64, span: i64) -> QuantPose {
    let line = |n: i64, w: i64| n + (n - w) * ahead / span;
    let pos = std::array::from_fn(|i| {
        let value = line(i64::from(now.pos.0[i]), i64::from(was.pos.0[i]));
        value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    });
    let rot = if now.rot.0 == was.rot.0 {
        let component = |n: i16, w: i16| line(i64::from(n), i64::from(w)).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
        QuantQuat(now.rot.0, component(now.rot.1, was.rot.1), component(now.rot.2, was.rot.2), component(now.rot.3, was.rot.3))
    } else {
        now.rot
    };
    QuantPose { pos: QuantVec(pos), rot }
}

/// The views of the last [`MAX_BASE_AGE_TICKS`] snapshots, by tick.
#[derive(Clone, Debug, Default)]
pub struct ViewHistory {
    views: VecDeque<(u32, View)>,
}

impl ViewHistory {
    /// The view after snapshot `tick`, if it is still kept.
    pub fn get(&self, tick: u32) -> Option<&View> {
        self.views.iter().find(|(t, _)| *t == tick).map(|(_, v)| v)
    }

    /// Keep `view` as the one after snapshot `tick`; forget views too old to be a base.
    pub fn record(&mut self, tick: u32, view: View) {
        self.views.retain(|(t, _)| tick.wrapping_sub(*t) < MAX_BASE_AGE_TICKS && *t != tick);
        self.views.push_back((tick, view));
    }

    /// Forget everything (a new connection starts from nothing).
    pub fn clear(&mut self) {
        self.views.clear();
    }
}

/// The same pose as the decoder will rebuild it: rotation index in 0..=3.
fn canonical(mut pose: AvatarPose) -> AvatarPose {
    let fix = |p: &mut QuantPose| p.rot.0 %= 4;
    fix(&mut pose.body);
    fix(&mut pose.head);
    if let Some(hands) = &mut pose.hands {
        hands.iter_mut().for_each(fix);
    }
    pose
}

/// Pack `avatars` for snapshot `tick` as differences from what `base` predicts.
/// The result is the snapshot's `poses`.
pub fn encode_avatars(base: &View, tick: u32, avatars: &[AvatarState]) -> Vec<u8> {
    let mut writer = BitWriter::endian(Vec::new(), BigEndian);
    for state in avatars {
        // Writing to a Vec cannot fail and every width is chosen to fit.
        let _ = write_avatar(&mut writer, base.predict(state.id, tick).as_ref(), state);
    }
    let _ = writer.byte_align();
    writer.into_writer()
}

/// How many bits `state` takes in snapshot `tick` whose base is `base`.
pub fn avatar_bits(base: &View, tick: u32, state: &AvatarState) -> u32 {
    let mut counter = BitsWritten::<u32>::new();
    let _ = write_avatar(&mut counter, base.predict(state.id, tick).as_ref(), state);
    counter.written()
}

/// Unpack `count` avatars from the `poses` of snapshot `tick`, against `base`.
/// Refuses anything but exactly `count` well-formed records and zero padding.
pub fn decode_avatars(base: &View, tick: u32, count: usize, poses: &[u8]) -> Result<Vec<AvatarState>, DecodeError> {
    if count > MAX_SNAPSHOT_AVATARS {
        return Err(DecodeError::OutOfBounds("count"));
    }
    let mut reader = BitReader::endian(std::io::Cursor::new(poses), BigEndian);
    let mut avatars = Vec::with_capacity(count);
    for _ in 0..count {
        avatars.push(read_avatar(&mut reader, base, tick)?);
    }
    match bits_left(&mut reader, poses)? {
        0..8 => check_padding(&mut reader, poses).map(|()| avatars),
        _ => Err(DecodeError::Malformed("bytes after the last pose")),
    }
}

/// Pack shared things for snapshot `tick` as differences from what `base`
/// predicts. The result is the snapshot's `objects`.
pub fn encode_objects(base: &View, tick: u32, objects: &[ObjectState]) -> Vec<u8> {
    let mut writer = BitWriter::endian(Vec::new(), BigEndian);
    for state in objects {
        let _ = write_object(&mut writer, base.predict_object(state.id, tick), state);
    }
    let _ = writer.byte_align();
    writer.into_writer()
}

/// How many bits thing `state` takes in snapshot `tick` whose base is `base`.
pub fn object_bits(base: &View, tick: u32, state: &ObjectState) -> u32 {
    let mut counter = BitsWritten::<u32>::new();
    let _ = write_object(&mut counter, base.predict_object(state.id, tick), state);
    counter.written()
}

/// Unpack the `objects` of snapshot `tick` against `base`: records until
/// fewer than 8 bits are left (a record is at least 14), then zero padding.
pub fn decode_objects(base: &View, tick: u32, bytes: &[u8]) -> Result<Vec<ObjectState>, DecodeError> {
    let mut reader = BitReader::endian(std::io::Cursor::new(bytes), BigEndian);
    let mut objects = Vec::new();
    while bits_left(&mut reader, bytes)? >= 8 {
        if objects.len() == MAX_SNAPSHOT_OBJECTS {
            return Err(DecodeError::OutOfBounds("objects"));
        }
        let code: u8 = reader.read_var(4).map_err(|_| ENDS_EARLY)?;
        let bits = WIDTHS[usize::from(code)];
        let id: u64 = if bits > 0 { reader.read_var(bits).map_err(|_| ENDS_EARLY)? } else { 0 };
        let id = u16::try_from(id).map_err(|_| DecodeError::OutOfBounds("object id"))?;
        let base = base.predict_object(id, tick).unwrap_or_default();
        objects.push(ObjectState { id, pose: read_pose(&mut reader, &base, [0; 3])? });
    }
    check_padding(&mut reader, bytes).map(|()| objects)
}

fn bits_left(reader: &mut Reader<'_>, bytes: &[u8]) -> Result<u64, DecodeError> {
    let used = reader.position_in_bits().map_err(|_| ENDS_EARLY)?;
    Ok((bytes.len() as u64 * 8).saturating_sub(used))
}

/// The bits after the last record: fewer than 8, all zero.
fn check_padding(reader: &mut Reader<'_>, bytes: &[u8]) -> Result<(), DecodeError> {
    let padding = bits_left(reader, bytes)?;
    let pad: u8 = reader.read_var(padding as u32).unwrap_or(0);
    if padding > 0 && pad != 0 {
        return Err(DecodeError::Malformed("padding bits are not zero"));
    }
    Ok(())
}

fn write_object<W: BitWrite>(w: &mut W, base: Option<QuantPose>, state: &ObjectState) -> std::io::Result<()> {
    let id = u64::from(state.id);
    let code = width_code(|bits| bits >= 64 || id >> bits == 0);
    w.write_var::<u8>(4, code)?;
    if WIDTHS[usize::from(code)] > 0 {
        w.write_var::<u64>(WIDTHS[usize::from(code)], id)?;
    }
    let mut base = base.unwrap_or_default();
    base.rot.0 %= 4;
    write_pose(w, &base, &state.pose, [0; 3])
}

type Reader<'a> = BitReader<std::io::Cursor<&'a [u8]>, BigEndian>;

const ENDS_EARLY: DecodeError = DecodeError::Malformed("snapshot poses end early");

fn base_parts(base: Option<&AvatarPose>) -> [QuantPose; 4] {
    let base = base.copied().map(canonical);
    let body = base.map(|b| b.body).unwrap_or_default();
    let head = base.map(|b| b.head).unwrap_or_default();
    let [left, right] = base.and_then(|b| b.hands).unwrap_or_default();
    [body, head, left, right]
}

fn write_avatar<W: BitWrite>(w: &mut W, base: Option<&AvatarPose>, state: &AvatarState) -> std::io::Result<()> {
    let id = u64::from(state.id.0);
    let code = width_code(|bits| bits >= 64 || id >> bits == 0);
    w.write_var::<u8>(4, code)?;
    if WIDTHS[usize::from(code)] > 0 {
        w.write_var::<u64>(WIDTHS[usize::from(code)], id)?;
    }
    let [body, head, left, right] = base_parts(base);
    w.write_bit(state.pose.hands.is_some())?;
    write_pose(w, &body, &state.pose.body, [0; 3])?;
    // Head and hands ride on the body: only their movement beyond the body's is sent.
    let carried = position_change(&body, &state.pose.body);
    write_pose(w, &head, &state.pose.head, carried)?;
    if let Some([l, r]) = &state.pose.hands {
        write_pose(w, &left, l, carried)?;
        write_pose(w, &right, r, carried)?;
    }
    Ok(())
}

fn position_change(base: &QuantPose, pose: &QuantPose) -> [i64; 3] {
    std::array::from_fn(|i| i64::from(pose.pos.0[i]) - i64::from(base.pos.0[i]))
}

fn write_pose<W: BitWrite>(w: &mut W, base: &QuantPose, pose: &QuantPose, carried: [i64; 3]) -> std::io::Result<()> {
    let change = position_change(base, pose);
    write_group(w, std::array::from_fn(|i| change[i] - carried[i]))?;
    let index = pose.rot.0 % 4;
    w.write_var::<u8>(2, index)?;
    let now = [pose.rot.1, pose.rot.2, pose.rot.3].map(i64::from);
    let was = [base.rot.1, base.rot.2, base.rot.3].map(i64::from);
    // Same largest component: send the change. Otherwise the three are sent as they are.
    let values = if index == base.rot.0 { std::array::from_fn(|i| now[i] - was[i]) } else { now };
    write_group(w, values)
}

/// The smallest width code whose width `fits`.
fn width_code(fits: impl Fn(u32) -> bool) -> u8 {
    (0u8..16).find(|&code| fits(WIDTHS[usize::from(code)])).unwrap_or(15)
}

fn fits_signed(value: i64, bits: u32) -> bool {
    match bits {
        0 => value == 0,
        64.. => true,
        _ => (-(1i64 << (bits - 1))..(1i64 << (bits - 1))).contains(&value),
    }
}

fn write_group<W: BitWrite>(w: &mut W, values: [i64; 3]) -> std::io::Result<()> {
    let code = width_code(|bits| values.iter().all(|&v| fits_signed(v, bits)));
    w.write_var::<u8>(4, code)?;
    let bits = WIDTHS[usize::from(code)];
    if bits > 0 {
        for v in values {
            w.write_signed_var::<i64>(bits, v)?;
        }
    }
    Ok(())
}

fn read_avatar<R: BitRead>(r: &mut R, base: &View, tick: u32) -> Result<AvatarState, DecodeError> {
    let code: u8 = r.read_var(4).map_err(|_| ENDS_EARLY)?;
    let bits = WIDTHS[usize::from(code)];
    let id: u64 = if bits > 0 { r.read_var(bits).map_err(|_| ENDS_EARLY)? } else { 0 };
    let id = PeerId(u32::try_from(id).map_err(|_| DecodeError::OutOfBounds("avatar id"))?);
    let [body, head, left, right] = base_parts(base.predict(id, tick).as_ref());
    let has_hands = r.read_bit().map_err(|_| ENDS_EARLY)?;
    let body_now = read_pose(r, &body, [0; 3])?;
    let carried = position_change(&body, &body_now);
    let head = read_pose(r, &head, carried)?;
    let hands = if has_hands { Some([read_pose(r, &left, carried)?, read_pose(r, &right, carried)?]) } else { None };
    let body = body_now;
    Ok(AvatarState { id, pose: AvatarPose { body, head, hands } })
}

fn read_pose<R: BitRead>(r: &mut R, base: &QuantPose, carried: [i64; 3]) -> Result<QuantPose, DecodeError> {
    let delta = read_group(r)?;
    let mut pos = [0i32; 3];
    for i in 0..3 {
        pos[i] = i32::try_from(i64::from(base.pos.0[i]) + carried[i] + delta[i]).map_err(|_| DecodeError::OutOfBounds("position"))?;
    }
    let index: u8 = r.read_var(2).map_err(|_| ENDS_EARLY)?;
    let values = read_group(r)?;
    let was = if index == base.rot.0 { [base.rot.1, base.rot.2, base.rot.3].map(i64::from) } else { [0; 3] };
    let mut rot = [0i16; 3];
    for i in 0..3 {
        rot[i] = i16::try_from(was[i] + values[i]).map_err(|_| DecodeError::OutOfBounds("rotation"))?;
    }
    Ok(QuantPose { pos: QuantVec(pos), rot: QuantQuat(index, rot[0], rot[1], rot[2]) })
}

fn read_group<R: BitRead>(r: &mut R) -> Result<[i64; 3], DecodeError> {
    let code: u8 = r.read_var(4).map_err(|_| ENDS_EARLY)?;
    let bits = WIDTHS[usize::from(code)];
    let mut values = [0i64; 3];
    if bits > 0 {
        for v in &mut values {
            *v = r.read_signed_var(bits).map_err(|_| ENDS_EARLY)?;
        }
    }
    Ok(values)
}
