# The image: Ubuntu 24.04 with Docker, the compose stack and its units installed and enabled,
# and the container images pulled, by the same Ansible roles that configure live hosts.
# Region-specific values (store, references, domain) arrive at boot through user data.

build {
  name    = "icon-node"
  sources = ["source.amazon-ebs.icon-node", "source.googlecompute.icon-node"]

  provisioner "shell" {
    inline = [
      "cloud-init status --wait || true",
      "sudo apt-get update -qq",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-apt",
    ]
  }

  provisioner "ansible" {
    playbook_file = "${path.root}/../ansible/playbooks/image.yml"
    user          = build.User
    use_proxy     = false
    ansible_env_vars = [
      "ANSIBLE_ROLES_PATH=${path.root}/../ansible/roles",
      "ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg",
      "ANSIBLE_HOST_KEY_CHECKING=False",
    ]
    extra_arguments = [
      "--extra-vars", "icon_node_image=${var.node_image}",
      "--extra-vars", "icon_node_iconctl_image=${var.iconctl_image}",
    ]
  }

  provisioner "shell" {
    # Nothing host-specific may stay in the image.
    inline = [
      "sudo rm -f /etc/ssh/ssh_host_* /etc/machine-id /var/lib/dbus/machine-id",
      "sudo touch /etc/machine-id",
      "sudo cloud-init clean --logs || true",
    ]
  }

  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
  }
}
