//! Storing recordings outside a call's own code: the container rule the call and recovery
//! share, and the recordings a crash cut short. Beside each file the media engine writes under
//! `{data-dir}/recordings-in-progress/` lies a sidecar, `{file}.json`, written (atomically)
//! when the recording starts with what storing it needs; the call removes both once it has
//! stored the recording. At the next start, each file still there with its sidecar is
//! repaired (the WAV sizes set from the file's length) and stored as a published File named
//! `{call_sid}-recovered.{ext}` in the container the call would have used; files without a
//! sidecar or without audio are removed. The app is not notified: the call that would have
//! received the callbacks is gone (the sidecar keeps `recordingStatusCallback` for the log).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use store::{ContainerFields, Store, StoredFile, StoredFileFields};

/// Where recordings go when neither the Record verb nor the endpoint names a container.
pub const DEFAULT_CONTAINER: &str = "recordings";
/// The default container's quotas: room for a voicemail box, not the API's upload default.
const DEFAULT_CONTAINER_FILES: i64 = 10_000;
const DEFAULT_CONTAINER_BYTES: i64 = 10 << 30;

/// The sidecar's layout version.
pub const SIDECAR_VERSION: u32 = 1;
const SIDECAR_SUFFIX: &str = ".json";
const TEMP_SUFFIX: &str = ".json.tmp";

/// What is needed to store a recording after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub version: u32,
    pub call_sid: String,
    /// The partner is the one owning the account (through its FlexML endpoint).
    pub account_sid: String,
    /// The verb's `containerSid`. Without one the container is chosen at recovery by the
    /// rule the call uses: the endpoint's `properties.container_sid`, else the partner's
    /// `recordings` container.
    pub container_sid: Option<String>,
    /// The file's extension (`wav`, `ul`) and the stored File's MIME type.
    pub extension: String,
    pub mime_type: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The verb's `recordingStatusCallback` as written (not resolved), for the log only.
    pub recording_status_callback: Option<String>,
}

/// Where the sidecar of the recording at `recording` goes.
pub fn sidecar_path(recording: &Path) -> PathBuf {
    let mut name = recording.as_os_str().to_owned();
    name.push(SIDECAR_SUFFIX);
    PathBuf::from(name)
}

/// Writes the sidecar beside `recording`: to a temporary name, then renamed over, so it is
/// either whole or absent. Small and local: done on the call's task like the engine's own
/// `File::create` of the recording.
pub fn write_sidecar(recording: &Path, sidecar: &Sidecar) -> std::io::Result<()> {
    let path = sidecar_path(recording);
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let json = serde_json::to_vec_pretty(sidecar).map_err(std::io::Error::other)?;
    std::fs::write(&temp, json)?;
    std::fs::rename(&temp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

pub async fn remove_sidecar(recording: &Path) {
    let _ = tokio::fs::remove_file(sidecar_path(recording)).await;
}

/// What a previous run left in the folder: listed at start, before any call can add to it.
#[derive(Debug, Default)]
pub struct Leftovers {
    /// Recordings (with their sidecar, if any).
    recordings: Vec<(PathBuf, Option<PathBuf>)>,
    /// Sidecars without a recording and half-written sidecars.
    strays: Vec<PathBuf>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.recordings.is_empty() && self.strays.is_empty()
    }
}

/// Lists the folder (quick: a `read_dir`); the work is [`recover`]'s.
pub fn leftovers(dir: &Path) -> Leftovers {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => return Leftovers::default(),
    };
    names.sort();
    let is = |p: &Path, suffix: &str| p.to_string_lossy().ends_with(suffix);
    let mut found = Leftovers::default();
    for path in &names {
        if is(path, TEMP_SUFFIX) {
            found.strays.push(path.clone());
        } else if is(path, SIDECAR_SUFFIX) {
            let text = path.to_string_lossy();
            let audio = PathBuf::from(&text[..text.len() - SIDECAR_SUFFIX.len()]);
            if !names.contains(&audio) {
                found.strays.push(path.clone());
            }
        } else if path.is_file() {
            let sidecar = sidecar_path(path);
            let sidecar = names.contains(&sidecar).then_some(sidecar);
            found.recordings.push((path.clone(), sidecar));
        } else {
            found.strays.push(path.clone());
        }
    }
    found
}

/// What became of one leftover recording.
#[derive(Debug)]
pub enum Recovery {
    /// Stored; the temporary files are gone.
    Stored {
        recording: PathBuf,
        file: Box<StoredFile>,
        duration_ms: u64,
        /// The verb's `recordingStatusCallback`, which recovery does not call.
        unsent_callback: Option<String>,
    },
    /// Removed: no sidecar, an unreadable one, or no audio.
    Discarded { recording: PathBuf, why: String },
    /// Not stored (the database, the container, its quota): left in place for the next start.
    Failed { recording: PathBuf, why: String },
}

/// Stores every leftover recording that has a sidecar and removes the rest, logging each.
pub async fn recover(store: &Store, leftovers: Leftovers) -> Vec<Recovery> {
    for stray in &leftovers.strays {
        tracing::info!(path = %stray.display(), "removing a leftover of an earlier run's recording");
        remove(stray).await;
    }
    let mut done = Vec::new();
    for (recording, sidecar) in leftovers.recordings {
        let outcome = recover_one(store, recording, sidecar).await;
        match &outcome {
            Recovery::Stored {
                recording,
                file,
                duration_ms,
                unsent_callback,
            } => tracing::info!(
                file_sid = %file.file_sid,
                container_sid = %file.container_sid,
                name = %file.name,
                duration_ms,
                path = %recording.display(),
                unsent_callback = unsent_callback.as_deref().unwrap_or("none"),
                "recovered a recording cut short by the last run's end (the app is not notified)"
            ),
            Recovery::Discarded { recording, why } => tracing::info!(
                path = %recording.display(),
                "removing an earlier run's unfinished recording: {why}"
            ),
            Recovery::Failed { recording, why } => tracing::warn!(
                path = %recording.display(),
                "cannot recover an earlier run's recording (kept for the next start): {why}"
            ),
        }
        done.push(outcome);
    }
    done
}

async fn recover_one(store: &Store, recording: PathBuf, sidecar: Option<PathBuf>) -> Recovery {
    let discard = |recording: PathBuf, why: String| async move {
        remove(&sidecar_path(&recording)).await;
        remove(&recording).await;
        Recovery::Discarded { recording, why }
    };
    let Some(sidecar_file) = sidecar else {
        return discard(recording, "no sidecar says where it belongs".into()).await;
    };
    let sidecar: Sidecar = match tokio::fs::read(&sidecar_file)
        .await
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return discard(recording, format!("unreadable sidecar: {e}")).await,
    };
    let mut bytes = match tokio::fs::read(&recording).await {
        Ok(b) => b,
        Err(e) => {
            return Recovery::Failed {
                recording,
                why: format!("reading it: {e}"),
            }
        }
    };
    // What the bytes are decides (a WAV is repaired whatever the sidecar calls it).
    let (mut extension, mut mime_type) = (sidecar.extension.clone(), sidecar.mime_type.clone());
    let duration_ms = if bytes.starts_with(b"RIFF") || extension == "wav" {
        match media::record::repair_wav(&mut bytes) {
            Ok(wav) => {
                (extension, mime_type) = ("wav".into(), "audio/wav".into());
                wav.duration_ms()
            }
            Err(e) => return discard(recording, format!("no audio ({e})")).await,
        }
    } else if extension == "ul" {
        // Headerless µ-law: one byte per sample, whole at every byte.
        bytes.len() as u64 * 1000 / u64::from(media::CALL_RATE)
    } else {
        // Another format (a stream of frames): stored as it is when it has any bytes.
        u64::from(!bytes.is_empty())
    };
    if duration_ms == 0 {
        return discard(recording, "no audio".into()).await;
    }
    let stored = async {
        let (partner_sid, container_sid) = container_for(
            store,
            &sidecar.account_sid,
            sidecar.container_sid.as_deref(),
        )
        .await?;
        let fields = StoredFileFields {
            name: format!("{}-recovered.{extension}", sidecar.call_sid),
            mime_type,
            publish: "file_sid".into(),
        };
        store
            .save_file(&partner_sid, &container_sid, &fields, bytes)
            .await
            .map_err(|e| format!("storing it in container {container_sid}: {e}"))
    }
    .await;
    match stored {
        Ok(file) => {
            // The sidecar first, as the call does: never stored twice.
            remove(&sidecar_file).await;
            remove(&recording).await;
            Recovery::Stored {
                recording,
                file: Box::new(file),
                duration_ms,
                unsent_callback: sidecar.recording_status_callback,
            }
        }
        Err(why) => Recovery::Failed { recording, why },
    }
}

/// The container named by the verb (`verb_container`), else by the FlexML endpoint's
/// `container_sid` property, else the partner's `recordings` container (created on first
/// use); with the partner owning the account. Recovery after a crash uses it too.
pub async fn container_for(
    store: &Store,
    account_sid: &str,
    verb_container: Option<&str>,
) -> Result<(String, String), String> {
    let endpoint = store
        .account_endpoint(account_sid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("account {account_sid} has no endpoint"))?;
    let from_endpoint = endpoint
        .properties
        .get("container_sid")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty() && *s != "null")
        .map(String::from);
    let container_sid = match verb_container.map(String::from).or(from_endpoint) {
        Some(sid) => sid,
        None => {
            let fields = ContainerFields {
                quota_files: DEFAULT_CONTAINER_FILES,
                quota_bytes: DEFAULT_CONTAINER_BYTES,
                ..ContainerFields::default()
            };
            store
                .container_named(&endpoint.partner_sid, DEFAULT_CONTAINER, &fields)
                .await
                .map_err(|e| e.to_string())?
                .container_sid
        }
    };
    Ok((endpoint.partner_sid, container_sid))
}

async fn remove(path: &Path) {
    let removed = match tokio::fs::metadata(path).await {
        Ok(m) if m.is_dir() => tokio::fs::remove_dir_all(path).await,
        _ => tokio::fs::remove_file(path).await,
    };
    if let Err(e) = removed {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media::record::{Channels, RecordFormat, Recorder, RecorderConfig};
    use std::io::BufWriter;

    struct Setup {
        root: PathBuf,
        dir: PathBuf,
        store: Store,
        partner_sid: String,
        account_sid: String,
    }

    async fn setup(name: &str) -> Setup {
        let root =
            std::env::temp_dir().join(format!("flexvox-recovery-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("recordings-in-progress");
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open_sqlite(&root.join("flexvox.db")).await.unwrap();
        let creds = store
            .provision_demo(None, "15550000001", "http://app/")
            .await
            .unwrap();
        Setup {
            root,
            dir,
            store,
            partner_sid: creds.partner_sid,
            account_sid: creds.account_sid,
        }
    }

    fn sidecar(s: &Setup, call_sid: &str, container_sid: Option<&str>, ext: &str) -> Sidecar {
        Sidecar {
            version: SIDECAR_VERSION,
            call_sid: call_sid.into(),
            account_sid: s.account_sid.clone(),
            container_sid: container_sid.map(String::from),
            extension: ext.into(),
            mime_type: if ext == "ul" {
                "audio/basic"
            } else {
                "audio/wav"
            }
            .into(),
            started_at: "2024-01-01T00:00:00.000Z".into(),
            recording_status_callback: Some("/status".into()),
        }
    }

    /// A 600 Hz tone, `frames` frames of 20 ms.
    fn tone(frames: usize) -> Vec<i16> {
        (0..frames * 160)
            .map(|n| (6000.0 * (std::f64::consts::TAU * 600.0 * n as f64 / 8000.0).sin()) as i16)
            .collect()
    }

    /// Records `samples` into `path` as the media engine does (a `BufWriter` over the file, the
    /// recorder's default flushing), then dies: the recorder and its buffer are leaked without
    /// `finish` or a last flush, so only what the writer had already handed over is on disk.
    fn record_then_crash(path: &Path, format: RecordFormat, samples: &[i16]) {
        let file = std::fs::File::create(path).unwrap();
        let config = RecorderConfig {
            format,
            channels: Channels::Caller,
            trim: false,
            ..RecorderConfig::default()
        };
        let mut recorder = Recorder::new(BufWriter::new(file), config).unwrap();
        for frame in samples.chunks(160) {
            recorder.push(frame, &[]).unwrap();
        }
        std::mem::forget(recorder);
    }

    #[tokio::test]
    async fn a_wav_cut_by_a_crash_is_stored_whole_in_the_verb_s_container() {
        let s = setup("verb-container").await;
        let container = s
            .store
            .create_container(
                &s.partner_sid,
                &ContainerFields {
                    name: "voicemail".into(),
                    ..ContainerFields::default()
                },
            )
            .await
            .unwrap();
        let path = s.dir.join("CA1-abc.wav");
        write_sidecar(
            &path,
            &sidecar(&s, "CA1", Some(&container.container_sid), "wav"),
        )
        .unwrap();
        // 2.9 s: the header was last rewritten at 2 s; the buffer has pushed out some more.
        let pushed = tone(145);
        record_then_crash(&path, RecordFormat::Wav, &pushed);
        let on_disk = (std::fs::metadata(&path).unwrap().len() - 44) / 2;
        assert!(
            on_disk > 16_000 && on_disk < 23_200,
            "{on_disk} samples on disk"
        );

        let done = recover(&s.store, leftovers(&s.dir)).await;
        let [Recovery::Stored {
            file, duration_ms, ..
        }] = &done[..]
        else {
            panic!("{done:?}");
        };
        assert_eq!(file.container_sid, container.container_sid);
        assert_eq!(file.name, "CA1-recovered.wav");
        assert_eq!(file.mime_type, "audio/wav");
        assert_eq!(file.publish, "file_sid");
        assert_eq!(*duration_ms, on_disk * 1000 / 8000);
        let (_, bytes) = s
            .store
            .file_data(&s.partner_sid, &file.file_sid)
            .await
            .unwrap()
            .unwrap();
        // A valid WAV whose sizes count every sample that reached the disk, and only those.
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
            bytes.len() - 8
        );
        assert_eq!(
            u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as u64,
            on_disk * 2
        );
        let decoded = media::decode(&bytes, Some("audio/wav"), None).unwrap();
        assert_eq!(decoded.len() as u64, on_disk);
        assert_eq!(decoded[..], pushed[..decoded.len()]);
        // Nothing is left to recover twice.
        assert_eq!(std::fs::read_dir(&s.dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&s.root);
    }

    #[tokio::test]
    async fn without_a_container_it_goes_to_recordings_and_strays_are_removed() {
        let s = setup("default-container").await;
        // µ-law, headerless: every byte on disk is a sample.
        let ul = s.dir.join("CA2-def.ul");
        write_sidecar(&ul, &sidecar(&s, "CA2", None, "ul")).unwrap();
        record_then_crash(&ul, RecordFormat::Ulaw, &tone(100));
        let ul_bytes = std::fs::read(&ul).unwrap();
        assert!(ul_bytes.len() >= 8000, "{}", ul_bytes.len());
        // A WAV that had not heard anything yet (only its header).
        let silent = s.dir.join("CA3-ghi.wav");
        write_sidecar(&silent, &sidecar(&s, "CA3", None, "wav")).unwrap();
        record_then_crash(&silent, RecordFormat::Wav, &[]);
        // A recording without a sidecar, a sidecar without a recording, a half-written one.
        let orphan = s.dir.join("CA4-jkl.wav");
        record_then_crash(&orphan, RecordFormat::Wav, &tone(100));
        write_sidecar(&s.dir.join("CA5-mno.wav"), &sidecar(&s, "CA5", None, "wav")).unwrap();
        std::fs::write(s.dir.join("CA6-pqr.wav.json.tmp"), b"{").unwrap();

        let done = recover(&s.store, leftovers(&s.dir)).await;
        assert_eq!(done.len(), 3, "{done:?}");
        let stored: Vec<&StoredFile> = done
            .iter()
            .filter_map(|r| match r {
                Recovery::Stored { file, .. } => Some(file.as_ref()),
                _ => None,
            })
            .collect();
        let [file] = stored[..] else {
            panic!("{done:?}")
        };
        assert_eq!(file.name, "CA2-recovered.ul");
        assert_eq!(file.mime_type, "audio/basic");
        let container = s
            .store
            .container(&s.partner_sid, &file.container_sid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(container.name, DEFAULT_CONTAINER);
        let (_, bytes) = s
            .store
            .file_data(&s.partner_sid, &file.file_sid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bytes, ul_bytes);
        let discarded = done
            .iter()
            .filter(|r| matches!(r, Recovery::Discarded { .. }))
            .count();
        assert_eq!(discarded, 2, "{done:?}");
        assert_eq!(std::fs::read_dir(&s.dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&s.root);
    }

    #[tokio::test]
    async fn a_recording_that_cannot_be_stored_is_kept_for_the_next_start() {
        let s = setup("kept").await;
        let path = s.dir.join("CA7-stu.wav");
        write_sidecar(&path, &sidecar(&s, "CA7", Some("no-such-container"), "wav")).unwrap();
        record_then_crash(&path, RecordFormat::Wav, &tone(100));
        let done = recover(&s.store, leftovers(&s.dir)).await;
        assert!(
            matches!(&done[..], [Recovery::Failed { why, .. }] if why.contains("no-such-container")),
            "{done:?}"
        );
        assert!(path.exists() && sidecar_path(&path).exists());
        // Once the container exists (here: the sidecar names one that does), the next start
        // stores it.
        let container = s
            .store
            .create_container(&s.partner_sid, &ContainerFields::default())
            .await
            .unwrap();
        write_sidecar(
            &path,
            &sidecar(&s, "CA7", Some(&container.container_sid), "wav"),
        )
        .unwrap();
        let done = recover(&s.store, leftovers(&s.dir)).await;
        assert!(matches!(&done[..], [Recovery::Stored { .. }]), "{done:?}");
        let _ = std::fs::remove_dir_all(&s.root);
    }

    #[tokio::test]
    async fn a_wav_is_repaired_and_stored_as_wav_whatever_the_sidecar_calls_it() {
        let s = setup("content-decides").await;
        let path = s.dir.join("CA9-vwx.mp3");
        write_sidecar(&path, &sidecar(&s, "CA9", None, "mp3")).unwrap();
        record_then_crash(&path, RecordFormat::Wav, &tone(75));
        let done = recover(&s.store, leftovers(&s.dir)).await;
        let [Recovery::Stored {
            file, duration_ms, ..
        }] = &done[..]
        else {
            panic!("{done:?}");
        };
        assert_eq!(
            (file.name.as_str(), file.mime_type.as_str()),
            ("CA9-recovered.wav", "audio/wav")
        );
        assert_eq!(*duration_ms, 1000);
        let _ = std::fs::remove_dir_all(&s.root);
    }

    #[test]
    fn the_sidecar_sits_beside_the_recording_and_reads_back() {
        let root = std::env::temp_dir().join(format!("flexvox-sidecar-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let path = root.join("CA8-x.wav");
        assert_eq!(sidecar_path(&path), root.join("CA8-x.wav.json"));
        let written = Sidecar {
            version: SIDECAR_VERSION,
            call_sid: "CA8".into(),
            account_sid: "AC".into(),
            container_sid: None,
            extension: "wav".into(),
            mime_type: "audio/wav".into(),
            started_at: "2024-01-01T00:00:00.000Z".into(),
            recording_status_callback: None,
        };
        write_sidecar(&path, &written).unwrap();
        let read: Sidecar =
            serde_json::from_slice(&std::fs::read(sidecar_path(&path)).unwrap()).unwrap();
        assert_eq!(read, written);
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            1,
            "no temporary left"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
