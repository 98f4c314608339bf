//! `patina tls …`: PEM certificates for a cluster, made by
//! `patina_replication::tls::generate` (rcgen): a CA, server certificates
//! (for peers' mutual TLS and for pg listeners: they carry the given IPs
//! and DNS names and the name peers verify) and client certificates.
//! Keys are written with mode 0600; existing files are kept unless
//! `--force`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use patina_replication::tls::generate;

#[derive(Debug, clap::Subcommand)]
pub enum TlsCommand {
    /// The cluster's certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Server certificates: for a node's peer TLS (gossip.tls) and for its
    /// pg listeners (pg.tls).
    #[command(subcommand)]
    Server(ServerCommand),
    /// Client certificates, for clients that authenticate with one.
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Writes a new CA: ca.pem and ca-key.pem (keep the key safe: whoever
    /// has it can make certificates the cluster trusts).
    Generate(CaArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum ServerCommand {
    /// Writes server.pem and server-key.pem, signed by the CA, valid for
    /// every NAME (IP address or DNS name) and for `patina-peer`.
    Generate(ServerArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Writes client.pem and client-key.pem, signed by the CA, with the
    /// common name NAME (usable for client authentication only).
    Generate(ClientArgs),
}

#[derive(Debug, clap::Args)]
pub struct Output {
    /// The folder to write the files into (created if missing).
    #[arg(long, default_value = ".", value_name = "DIR")]
    out_dir: PathBuf,
    /// Overwrite files that exist already.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct CaArgs {
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub struct Signer {
    /// The CA certificate (PEM) that signs.
    #[arg(long, default_value = "ca.pem", value_name = "PATH")]
    ca_cert: PathBuf,
    /// The CA's private key (PEM).
    #[arg(long, default_value = "ca-key.pem", value_name = "PATH")]
    ca_key: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// IP addresses and DNS names the certificate is valid for (the
    /// addresses clients and peers connect to).
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    #[command(flatten)]
    signer: Signer,
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// The client's name (the certificate's common name; for PostgreSQL
    /// certificate authentication, the user name).
    #[arg(value_name = "NAME")]
    name: String,
    #[command(flatten)]
    signer: Signer,
    #[command(flatten)]
    output: Output,
}

pub fn run(command: TlsCommand) -> anyhow::Result<()> {
    let written = match command {
        TlsCommand::Ca(CaCommand::Generate(args)) => {
            let (cert, key) = generate::ca()?;
            write_pair(&args.output, "ca", &cert, &key)?
        }
        TlsCommand::Server(ServerCommand::Generate(args)) => {
            let (ca_cert, ca_key) = args.signer.read()?;
            let (cert, key) = generate::signed(&ca_cert, &ca_key, &args.names)?;
            write_pair(&args.output, "server", &cert, &key)?
        }
        TlsCommand::Client(ClientCommand::Generate(args)) => {
            let (ca_cert, ca_key) = args.signer.read()?;
            let (cert, key) = generate::client(&ca_cert, &ca_key, &args.name)?;
            write_pair(&args.output, "client", &cert, &key)?
        }
    };
    let mut out = std::io::stdout().lock();
    for path in written {
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

impl Signer {
    fn read(&self) -> anyhow::Result<(String, String)> {
        let read = |path: &Path, what: &str| {
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the {what} {}", path.display()))
        };
        Ok((
            read(&self.ca_cert, "CA certificate")?,
            read(&self.ca_key, "CA key")?,
        ))
    }
}

/// Writes `<stem>.pem` and `<stem>-key.pem` (mode 0600), refusing before
/// writing either if one exists and `--force` was not given.
fn write_pair(output: &Output, stem: &str, cert: &str, key: &str) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&output.out_dir)
        .with_context(|| format!("creating {}", output.out_dir.display()))?;
    let cert_path = output.out_dir.join(format!("{stem}.pem"));
    let key_path = output.out_dir.join(format!("{stem}-key.pem"));
    if !output.force {
        for path in [&cert_path, &key_path] {
            if path.exists() {
                anyhow::bail!(
                    "{} exists already; pass --force to overwrite it",
                    path.display()
                );
            }
        }
    }
    write_file(&cert_path, cert, 0o644)?;
    write_file(&key_path, key, 0o600)?;
    Ok(vec![cert_path, key_path])
}

fn write_file(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(mode);
        // An existing file (--force) keeps its mode unless set again.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .with_context(|| format!("setting the mode of {}", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
