//! Sound cards through cpal: which exist, a microphone stream (any rate and
//! channel count in, 48 kHz mono out) and an output stream for the mix.
//! On a machine without them the errors say so plainly; callers carry on.

use std::sync::Arc;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::SAMPLE_RATE;
use crate::output::{DEVICE_BUFFER, OutputError};
use crate::resample::StreamResampler;

/// The input buffer asked of a sound card: 5 ms. Small costs nothing here
/// (samples queue up for the capture thread) and every millisecond is latency.
pub const INPUT_BUFFER: std::time::Duration = std::time::Duration::from_millis(5);

/// Microphone samples waiting for the capture thread, at most (one second).
const MIC_QUEUE: usize = SAMPLE_RATE as usize;

/// Why there is no microphone.
#[derive(Debug, thiserror::Error)]
#[error("no microphone: {0}")]
pub struct InputError(pub String);

/// Something that fills an output buffer (the tapped mix).
pub trait Render: Send + 'static {
    /// Fill `out`, interleaved with `channels` per frame.
    fn render(&mut self, out: &mut [f32], channels: u16);
}

fn describe(device: &cpal::Device) -> String {
    device.description().map(|d| d.name().to_owned()).unwrap_or_else(|_| device.to_string())
}

/// Names of the microphones this PC has.
pub fn input_names() -> Vec<String> {
    cpal::default_host().input_devices().map(|d| d.map(|d| describe(&d)).collect()).unwrap_or_default()
}

/// Names of the speakers and headphones this PC has.
pub fn output_names() -> Vec<String> {
    cpal::default_host().output_devices().map(|d| d.map(|d| describe(&d)).collect()).unwrap_or_default()
}

/// A stream config asking for a buffer of `length`, within what the device allows.
fn short_buffer(supported: &cpal::SupportedStreamConfig, length: std::time::Duration) -> cpal::StreamConfig {
    let mut config = supported.config();
    let want = (supported.sample_rate() as f64 * length.as_secs_f64()) as u32;
    if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size() {
        config.buffer_size = cpal::BufferSize::Fixed(want.clamp(*min, *max));
    }
    config
}

/// The name of the named output, or of the default one.
pub fn output_name(name: Option<&str>) -> Option<String> {
    output_device(name).ok().map(|(device, _)| describe(&device))
}

/// The named output (or the default) and its preferred config.
pub fn output_device(name: Option<&str>) -> Result<(cpal::Device, cpal::SupportedStreamConfig), OutputError> {
    let host = cpal::default_host();
    let device = match name {
        Some(name) => host
            .output_devices()
            .map_err(|e| OutputError::NoDevice(e.to_string()))?
            .find(|d| describe(d) == name)
            .ok_or_else(|| OutputError::NoDevice(format!("no output called {name}")))?,
        None => host.default_output_device().ok_or_else(|| OutputError::NoDevice("this PC has no sound output".into()))?,
    };
    let config = device.default_output_config().map_err(|e| OutputError::NoDevice(e.to_string()))?;
    Ok((device, config))
}

/// Start playing what `render` makes on the named output (or the default).
pub fn play(name: Option<&str>, render: impl Render) -> Result<cpal::Stream, OutputError> {
    let (device, supported) = output_device(name)?;
    let render = Arc::new(std::sync::Mutex::new(render));
    let build = |config: cpal::StreamConfig| {
        let render = render.clone();
        let channels = config.channels;
        device.build_output_stream::<f32, _, _>(
            config,
            // Only this callback ever locks it: never contended.
            move |data: &mut [f32], _| render.lock().unwrap_or_else(|e| e.into_inner()).render(data, channels),
            |e| tracing::warn!("sound output: {e}"),
            None,
        )
    };
    // Some cards refuse a buffer that short: then their own default.
    let stream =
        build(short_buffer(&supported, DEVICE_BUFFER)).or_else(|_| build(supported.config())).map_err(|e| OutputError::NoDevice(e.to_string()))?;
    stream.play().map_err(|e| OutputError::NoDevice(e.to_string()))?;
    Ok(stream)
}

/// A running microphone: 48 kHz mono samples arrive in `samples`.
pub struct MicStream {
    _stream: cpal::Stream,
    /// The microphone, 48 kHz mono.
    pub samples: rtrb::Consumer<f32>,
    /// The device's name.
    pub name: String,
}

/// Open the named microphone (or the default).
pub fn open_microphone(name: Option<&str>) -> Result<MicStream, InputError> {
    let host = cpal::default_host();
    let device = match name {
        Some(name) => host
            .input_devices()
            .map_err(|e| InputError(e.to_string()))?
            .find(|d| describe(d) == name)
            .ok_or_else(|| InputError(format!("no microphone called {name}")))?,
        None => host.default_input_device().ok_or_else(|| InputError("this PC has no microphone".into()))?,
    };
    let supported = device.default_input_config().map_err(|e| InputError(e.to_string()))?;
    let config = short_buffer(&supported, INPUT_BUFFER);
    let channels = usize::from(config.channels.max(1));
    let (mut producer, consumer) = rtrb::RingBuffer::new(MIC_QUEUE);
    let mut resampler = StreamResampler::new(config.sample_rate, SAMPLE_RATE);
    let mut mono = Vec::new();
    let mut converted = Vec::new();
    let stream = device
        .build_input_stream::<f32, _, _>(
            config,
            move |data: &[f32], _| {
                mono.clear();
                mono.extend(data.chunks(channels).map(|c| c.iter().sum::<f32>() / channels as f32));
                converted.clear();
                resampler.process(&mono, &mut converted);
                // Full: the capture thread has stalled a second; newer sound waits.
                for &s in &converted {
                    let _ = producer.push(s);
                }
            },
            |e| tracing::warn!("microphone: {e}"),
            None,
        )
        .map_err(|e| InputError(e.to_string()))?;
    stream.play().map_err(|e| InputError(e.to_string()))?;
    Ok(MicStream { _stream: stream, samples: consumer, name: describe(&device) })
}
