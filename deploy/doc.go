// Package deploy holds herd's deployment files: Kubernetes manifests in
// kubernetes/, the production HAProxy configuration in haproxy/ and the
// Dockerfile. Its test decodes every manifest strictly and checks that the
// files agree with herd's defaults.
package deploy
