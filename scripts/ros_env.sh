# Source this file (bash/zsh) to use the ROS 2 Jazzy wheels and the colcon install/ of this
# repository: `source scripts/ros_env.sh [VENV]`. Afterwards `python -c "import rclpy, hoi_msgs.msg"`
# works and install/hoi_perception/lib/hoi_perception/<node> run.
_hoi_repo="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_hoi_venv="$(cd "${1:-$_hoi_repo/.venv}" && pwd)"
_hoi_pyver="$("$_hoi_venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null)"
_hoi_site="$_hoi_venv/lib/python${_hoi_pyver}/site-packages"

_hoi_prepend() {  # _hoi_prepend VAR DIR: put DIR first in VAR once
  local var="$1" dir="$2" cur
  eval "cur=\${$var:-}"
  case ":$cur:" in *":$dir:"*) ;; *) eval "export $var=\"$dir\${cur:+:\$cur}\"" ;; esac
}

# Packages providing the ROS runtime (wheels install into the venv prefix), then our builds.
_hoi_prepend AMENT_PREFIX_PATH "$_hoi_venv"
_hoi_prepend CMAKE_PREFIX_PATH "$_hoi_venv"
_hoi_prepend PATH "$_hoi_venv/bin"
_hoi_prepend LD_LIBRARY_PATH "$_hoi_venv/lib"
for _hoi_libs in "$_hoi_site"/ros_*.libs; do
  [ -d "$_hoi_libs" ] && _hoi_prepend LD_LIBRARY_PATH "$_hoi_libs"
done
for _hoi_pkg in hoi_msgs hoi_perception; do
  _hoi_prefix="$_hoi_repo/install/$_hoi_pkg"
  [ -d "$_hoi_prefix" ] || continue
  _hoi_prepend AMENT_PREFIX_PATH "$_hoi_prefix"
  _hoi_prepend CMAKE_PREFIX_PATH "$_hoi_prefix"
  [ -d "$_hoi_prefix/lib" ] && _hoi_prepend LD_LIBRARY_PATH "$_hoi_prefix/lib"
  [ -d "$_hoi_prefix/lib/python${_hoi_pyver}/site-packages" ] \
    && _hoi_prepend PYTHONPATH "$_hoi_prefix/lib/python${_hoi_pyver}/site-packages"
  [ -d "$_hoi_prefix/lib/$_hoi_pkg" ] && _hoi_prepend PATH "$_hoi_prefix/lib/$_hoi_pkg"
done
# The shared real data beside the checkout, for code imported from the install/ copy (whose own
# location says nothing about where the checkout is).
[ -z "${HOI_SHARED_DATA:-}" ] && [ -d "$_hoi_repo/../shared/data" ] \
  && export HOI_SHARED_DATA="$(cd "$_hoi_repo/../shared/data" && pwd)"
# The wheels ship only Fast DDS.
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
unset -f _hoi_prepend
unset _hoi_repo _hoi_venv _hoi_pyver _hoi_site _hoi_libs _hoi_pkg _hoi_prefix
