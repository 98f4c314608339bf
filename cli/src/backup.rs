//! `patina backup <file>`: a consistent online snapshot of a running node
//! (`COPY patina.backup TO STDOUT` over the pg wire), written to a file
//! beside the target, synced to disk, checked to be a patina database of
//! that node, and only then renamed to `<file>`: an interrupted backup
//! never leaves a half-written file under the name asked for.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use patina_store::Reader;

use crate::conn::ConnectArgs;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The file to write the snapshot to (replaced if it exists).
    file: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[allow(clippy::print_stdout)]
pub fn run(args: BackupArgs) -> anyhow::Result<()> {
    let partial = partial_path(&args.file);
    let mut connection = args.connect.connect()?;
    let written = {
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let mut out = BufWriter::new(file);
        let copied = connection.copy_out("COPY patina.backup TO STDOUT", &mut out);
        let finished = copied.and_then(|result| {
            out.flush().map_err(crate::pgclient::ClientError::Output)?;
            Ok(result)
        });
        match finished {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(server)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(server.into());
            }
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                return Err(error.into());
            }
        }
    };
    connection.close();
    let checked = check(&partial);
    let site = match checked {
        Ok(site) => site,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, &args.file)
        .with_context(|| format!("renaming {} to {}", partial.display(), args.file.display()))?;
    println!(
        "backup of node {site} written to {} ({written} bytes)",
        args.file.display()
    );
    Ok(())
}

/// `<file>.partial`, in the same directory (so the rename is atomic).
fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    file.with_file_name(name)
}

/// Syncs the snapshot to disk and reads it as a patina database: its node's
/// site id.
fn check(path: &Path) -> anyhow::Result<patina_store::SiteId> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("syncing {}", path.display()))?;
    let reader = Reader::open(path)
        .with_context(|| format!("the snapshot in {} does not open", path.display()))?;
    Ok(reader.site_id())
}
