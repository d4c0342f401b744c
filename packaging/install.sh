#!/bin/sh
# Installs Lvzhi from this offline bundle on a server that takes no packages (run as root from the
# unpacked folder): checks the files against SHA256SUMS, then puts them where the packages do —
# /usr/bin/lvzhi, /etc/systemd/system/lvzhi.service, /etc/lvzhi/lvzhi.toml (an existing one is kept),
# /usr/share/lvzhi — and makes the user lvzhi and /var/lib/lvzhi. Then: systemctl enable --now lvzhi
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then
    echo "请以 root 运行：sudo ./install.sh" >&2
    exit 1
fi
sha256sum --quiet -c SHA256SUMS || { echo "文件与 SHA256SUMS 不符，未安装。" >&2; exit 1; }
install -D -m 0755 lvzhi /usr/bin/lvzhi
install -D -m 0644 lvzhi.service /etc/systemd/system/lvzhi.service
if [ -f /etc/lvzhi/lvzhi.toml ]; then
    echo "保留现有配置 /etc/lvzhi/lvzhi.toml（新版默认配置见 $(pwd)/lvzhi.toml）"
else
    install -D -m 0640 lvzhi.toml /etc/lvzhi/lvzhi.toml
fi
mkdir -p /usr/share/lvzhi /usr/share/doc/lvzhi
cp -r rubrics /usr/share/lvzhi/
cp doc/* /usr/share/doc/lvzhi/
@USER_SH@
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
echo "已安装 lvzhi $(/usr/bin/lvzhi --version 2>/dev/null | awk '{print $2}')。启动：systemctl enable --now lvzhi；首次启动后管理员初始密码在 /var/lib/lvzhi/admin-initial-password.txt"
