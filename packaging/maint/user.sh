# The service's own user and data folder, and the configuration file readable by it alone (with
# root). Shared by the .deb's postinst, the .rpm's %post and the offline bundle's install.sh
# (scripts/package puts it into each); safe to run again.
if ! getent group lvzhi >/dev/null 2>&1; then
    groupadd --system lvzhi
fi
if ! getent passwd lvzhi >/dev/null 2>&1; then
    useradd --system --gid lvzhi --home-dir /var/lib/lvzhi --no-create-home \
        --shell /usr/sbin/nologin --comment "Lvzhi service" lvzhi
fi
mkdir -p /var/lib/lvzhi
chown lvzhi:lvzhi /var/lib/lvzhi
chmod 0750 /var/lib/lvzhi
if [ -f /etc/lvzhi/lvzhi.toml ]; then
    chown root:lvzhi /etc/lvzhi/lvzhi.toml
    chmod 0640 /etc/lvzhi/lvzhi.toml
fi
