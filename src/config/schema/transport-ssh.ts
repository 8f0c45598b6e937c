import { Type } from "@sinclair/typebox";

/**
 * The `ssh` transport's keys of `transport:` (one object schema serves every kind, so these are spread into it);
 * values are checked further in src/config/transport-ssh.ts.
 */
export const SshTransportFields = {
  host: Type.Optional(Type.String({ title: "SSH host", description: "ssh: the host name or address to connect to (required).", minLength: 1 })),
  port: Type.Optional(Type.Integer({ title: "SSH port", description: "ssh: the port (default 22).", minimum: 1, maximum: 65535 })),
  user: Type.Optional(Type.String({ title: "User", description: "ssh: the remote user (default: the user orc runs as). docker: the user processes run as inside (name or uid[:gid]); default: the workspace's owner, so the files agents write stay yours.", minLength: 1 })),
  key: Type.Optional(
    Type.String({
      title: "Private key file",
      description: "ssh: a private key file (`~/` is your home; relative to this file otherwise). Without it, the ssh-agent at SSH_AUTH_SOCK. Passwords are never used.",
      minLength: 1,
    }),
  ),
  passphrase_env: Type.Optional(
    Type.String({ title: "Passphrase variable", description: "ssh: the NAME of an environment variable holding the key's passphrase (never the passphrase).", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }),
  ),
  known_hosts: Type.Optional(Type.String({ title: "known_hosts file", description: "ssh: where host keys are checked (default ~/.ssh/known_hosts).", minLength: 1 })),
  fingerprint: Type.Optional(
    Type.String({ title: "Pinned host key", description: "ssh: the host key's SHA256 fingerprint (`SHA256:...`, as `ssh-keygen -lf` prints it), accepted whatever known_hosts says." }),
  ),
  workspace: Type.Optional(
    Type.String({ title: "Remote workspace", description: "ssh: the remote directory the workspace is copied to (default ~/.orc/workspaces/<project>-<hash>).", minLength: 1 }),
  ),
};
