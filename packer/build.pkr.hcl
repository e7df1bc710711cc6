# The image: Debian 12 (what the region stacks boot) with Docker, the compose stack and its
# units installed and enabled, and the container images (node, iconctl, sidecars) pulled, by
# the same Ansible roles that configure live hosts. The docker source applies the same roles
# to a container on a local engine (no engine inside it: Docker-dependent tasks are off).
# Region-specific values (store, references, domain) arrive at boot through user data.

build {
  name    = "icon-node"
  sources = ["source.amazon-ebs.icon-node", "source.googlecompute.icon-node", "source.docker.icon-node"]

  provisioner "shell" {
    inline = [
      # A container build runs as root without sudo: $sudo is empty there.
      "sudo=$(command -v sudo || true)",
      "cloud-init status --wait || true",
      "$sudo apt-get update -qq",
      "$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-apt",
    ]
  }

  provisioner "ansible" {
    except        = ["docker.icon-node"]
    playbook_file = "${path.root}/../ansible/playbooks/image.yml"
    user          = build.User
    use_proxy     = false
    ansible_env_vars = [
      "ANSIBLE_ROLES_PATH=${path.root}/../ansible/roles",
      "ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg",
      "ANSIBLE_HOST_KEY_CHECKING=False",
    ]
    extra_arguments = concat([
      "--extra-vars", "icon_node_image=${var.node_image}",
      "--extra-vars", "icon_node_iconctl_image=${var.iconctl_image}",
    ], var.ansible_extra_arguments)
  }

  # The container is reached through Ansible's docker connection, by the name run_command gives.
  provisioner "ansible" {
    only          = ["docker.icon-node"]
    playbook_file = "${path.root}/../ansible/playbooks/image.yml"
    user          = "root"
    use_proxy     = false
    ansible_env_vars = [
      "ANSIBLE_ROLES_PATH=${path.root}/../ansible/roles",
      "ANSIBLE_CONFIG=${path.root}/../ansible/ansible.cfg",
    ]
    extra_arguments = concat([
      "--extra-vars", "ansible_connection=community.docker.docker ansible_host=packer-${var.image_name} ansible_become=false",
      "--extra-vars", "icon_node_image=${var.node_image}",
      "--extra-vars", "icon_node_iconctl_image=${var.iconctl_image}",
      "--extra-vars", "icon_node_manage_docker=false icon_node_systemd=false",
      "--extra-vars", "icon_agent_systemd=false icon_agent_manage_service=false",
    ], var.ansible_extra_arguments)
  }

  provisioner "shell" {
    # Nothing host-specific may stay in the image.
    inline = [
      "sudo=$(command -v sudo || true)",
      "$sudo rm -f /etc/ssh/ssh_host_* /etc/machine-id /var/lib/dbus/machine-id",
      "$sudo touch /etc/machine-id",
      "$sudo cloud-init clean --logs || true",
    ]
  }

  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
  }
}
