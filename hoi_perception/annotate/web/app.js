// The annotation page: the video frame with the posed body and object drawn over it, click picking,
// contact pairs, save and re-solve. Talks to hoi_perception/annotate/server.py; three.js is served
// from the project's own node_modules (see the import map in index.html).
import * as THREE from 'three';

const $ = (id) => document.getElementById(id);

// Hooks for tests and the curious (read-only use is safe; the page owns the state).
const hoi = (window.hoi = {
  ready: false, frame: 0, mode: 'object', lastPick: null, pendingObject: null, pendingTarget: null,
  annotations: null, dirty: false, lastResolve: null, lastError: null, loads: 0, picks: 0, sideView: false,
});

// --- server -------------------------------------------------------------------------------
async function api(path, options) {
  const response = await fetch(path, options);
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch { body = { error: text }; }
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}
const postJson = (path, data) => api(path, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data ?? {}),
});

function fromBase64(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
}

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
  if (isError) hoi.lastError = text;
}

// --- three.js scene -----------------------------------------------------------------------
const canvas = $('canvas');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio || 1);
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera();
scene.add(camera);
camera.add(new THREE.DirectionalLight(0xffffff, 1.6));  // a head light: the side facing the viewer is lit
scene.add(new THREE.AmbientLight(0xffffff, 1.0));
// The server speaks the camera's optical frame (x right, y down, z forward); three.js cameras look down
// -z with y up. Rotating everything 180 deg about x maps one onto the other with the camera at the origin.
const root = new THREE.Group();
root.matrixAutoUpdate = false;
root.matrix.makeScale(1, -1, -1);
root.matrixWorldNeedsUpdate = true;
scene.add(root);

const bodyMaterial = new THREE.MeshLambertMaterial({
  color: 0x5fa8ff, transparent: true, opacity: 0.5, side: THREE.DoubleSide, depthWrite: false,
});
const objectMaterial = new THREE.MeshLambertMaterial({
  color: 0xff9a3c, transparent: true, opacity: 0.85, side: THREE.DoubleSide,
});
const bodyMesh = new THREE.Mesh(new THREE.BufferGeometry(), bodyMaterial);
const objectMesh = new THREE.Mesh(new THREE.BufferGeometry(), objectMaterial);
bodyMesh.renderOrder = 2;  // drawn after the object, so the object shows through the body
root.add(bodyMesh, objectMesh);
let jointMeshes = null;  // InstancedMesh, made once the joint count is known
const markerGeometry = new THREE.SphereGeometry(0.02, 12, 8);
const objectMarker = new THREE.Mesh(markerGeometry, new THREE.MeshBasicMaterial({ color: 0x33ff66 }));
const targetMarker = new THREE.Mesh(markerGeometry, new THREE.MeshBasicMaterial({ color: 0xffee33 }));
objectMarker.visible = targetMarker.visible = false;
const pairLines = new THREE.LineSegments(new THREE.BufferGeometry(),
  new THREE.LineBasicMaterial({ color: 0x33ff66, depthTest: false }));  // drawn over the meshes
pairLines.renderOrder = 3;
root.add(objectMarker, targetMarker, pairLines);

let clip = null;        // /api/clip
let meshes = null;      // the current frame's arrays: body, joints, object (Float32Array), pose (Matrix4 or null)
let frameTexture = null;

// The projection of the video's intrinsics K (pixel centres at integer coordinates, OpenCV style), so the
// meshes land on the pixels the solver put them: NDC x = 2 (u + 0.5) / W - 1, y = 1 - 2 (v + 0.5) / H.
function setProjection(K, width, height, near = 0.02, far = 1000) {
  const [fx, s, cx] = K[0];
  const [fy, cy] = [K[1][1], K[1][2]];
  camera.projectionMatrix.set(
    2 * fx / width, -2 * s / width, 1 - 2 * (cx + 0.5) / width, 0,
    0, 2 * fy / height, 2 * (cy + 0.5) / height - 1, 0,
    0, 0, -(far + near) / (far - near), -2 * far * near / (far - near),
    0, 0, -1, 0);
  camera.projectionMatrixInverse.copy(camera.projectionMatrix).invert();
}

// The canvas keeps the image's aspect ratio (the background fills the canvas) and fits the window.
function layout() {
  if (!clip) return;
  const [w, h] = clip.image_size;
  const view = $('view');
  const maxW = view.clientWidth - 16, maxH = window.innerHeight - 70;
  const scale = Math.min(maxW / w, maxH / h);
  renderer.setSize(Math.max(1, Math.floor(w * scale)), Math.max(1, Math.floor(h * scale)));
  render();
}
window.addEventListener('resize', layout);

function render() {
  if (!clip) return;
  scene.background = hoi.sideView || !frameTexture ? new THREE.Color(0x303030) : frameTexture;
  updateCamera();
  renderer.render(scene, camera);
}

// Front view: the video camera. Side view: the same camera orbited 90 deg about the body's vertical
// axis (pelvis -> neck) through the pelvis, to judge depth, which the image cannot show.
function updateCamera() {
  camera.position.set(0, 0, 0);
  camera.quaternion.identity();
  if (hoi.sideView && meshes && meshes.joints) {
    const pelvis = jointWorld(clip.joint_names.indexOf('pelvis'));
    const neck = jointWorld(clip.joint_names.indexOf('neck'));
    const axis = neck.clone().sub(pelvis).normalize();
    const q = new THREE.Quaternion().setFromAxisAngle(axis, Math.PI / 2);
    camera.position.copy(pelvis).sub(pelvis.clone().applyQuaternion(q));
    camera.quaternion.copy(q);
  }
  camera.updateMatrixWorld(true);
}

function jointWorld(j) {
  const J = meshes.joints;
  return new THREE.Vector3(J[3 * j], J[3 * j + 1], J[3 * j + 2]).applyMatrix4(root.matrix);
}

function setPositions(mesh, positions) {
  const geometry = mesh.geometry;
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.computeVertexNormals();
  geometry.computeBoundingSphere();  // the raycaster tests the bounding sphere first
  geometry.computeBoundingBox();
}

// --- frames -------------------------------------------------------------------------------
let loadSeq = 0;
async function setFrame(t) {
  t = Math.max(0, Math.min(clip.num_frames - 1, Math.round(t)));
  const seq = ++loadSeq;
  const [m, texture] = await Promise.all([
    api(`/api/meshes/${t}`),
    new THREE.TextureLoader().loadAsync(`/api/frame/${t}.jpg`),
  ]);
  if (seq !== loadSeq) { texture.dispose(); return; }  // a later frame was asked for meanwhile
  texture.colorSpace = THREE.SRGBColorSpace;
  if (frameTexture) frameTexture.dispose();
  frameTexture = texture;
  // null: the body is not solved / the object not placed in this frame; that mesh is hidden
  meshes = {
    body: m.body_vertices ? fromBase64(m.body_vertices, Float32Array) : null,
    joints: m.joints ? fromBase64(m.joints, Float32Array) : null,
    object: m.object_vertices ? fromBase64(m.object_vertices, Float32Array) : null,
    pose: m.object_pose ? new THREE.Matrix4().set(...m.object_pose.flat()) : null,
  };
  bodyMesh.visible = Boolean(meshes.body);
  if (bodyMesh.visible) setPositions(bodyMesh, meshes.body);
  objectMesh.visible = Boolean(meshes.object && meshes.pose && clip.object_faces);
  if (objectMesh.visible) setPositions(objectMesh, meshes.object);
  jointMeshes.visible = Boolean(meshes.joints);
  if (jointMeshes.visible) {
    const matrix = new THREE.Matrix4();
    for (let j = 0; j < meshes.joints.length / 3; j++) {
      jointMeshes.setMatrixAt(j, matrix.makeTranslation(meshes.joints[3 * j], meshes.joints[3 * j + 1],
        meshes.joints[3 * j + 2]));
    }
    jointMeshes.instanceMatrix.needsUpdate = true;
    jointMeshes.computeBoundingSphere();
  }
  hoi.frame = t;
  $('frame').value = String(t);
  $('frame-label').textContent = `${t} / ${clip.num_frames - 1}`;
  showPending();
  drawPairs();
  render();
  hoi.loads += 1;
}

// --- picking ------------------------------------------------------------------------------
const raycaster = new THREE.Raycaster();

function toOptical(worldPoint) {
  return root.worldToLocal(worldPoint.clone());  // root's inverse: world -> camera optical frame
}

function pick(event) {
  if (!clip || !meshes) return;
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  const [w, h] = clip.image_size;
  const pixel = [x / rect.width * w - 0.5, y / rect.height * h - 0.5];  // image pixel, centre convention
  const ndc = new THREE.Vector2(2 * x / rect.width - 1, 1 - 2 * y / rect.height);
  const mode = hoi.mode;
  hoi.picks += 1;
  const pickInfo = { mode, frame: hoi.frame, css: [x, y], pixel, hit: false };
  if (mode === 'image') {
    if (hoi.sideView) return setStatus('image points are picked in the front view (untick side view)', true);
    hoi.pendingTarget = { image: pixel };
    Object.assign(pickInfo, { hit: true, target: hoi.pendingTarget });
    targetMarker.visible = false;
  } else {
    updateCamera();
    raycaster.setFromCamera(ndc, camera);
    const mesh = mode === 'object' ? objectMesh : bodyMesh;
    const hits = mesh.visible ? raycaster.intersectObject(mesh, false) : [];
    if (!hits.length) {
      hoi.lastPick = pickInfo;
      return setStatus(mode === 'object' ? 'missed the object (or it is not placed in this frame)'
        : 'missed the body (or it is not solved in this frame)', true);
    }
    const hit = hits[0];
    const point = toOptical(hit.point);
    pickInfo.hit = true;
    pickInfo.cameraPoint = point.toArray();
    if (mode === 'object') {
      // template frame = inverse of the pose (template -> camera, scale included)
      const template = point.clone().applyMatrix4(meshes.pose.clone().invert());
      hoi.pendingObject = { point: template.toArray(), frame: hoi.frame };
      pickInfo.objectPoint = hoi.pendingObject.point;
      objectMarker.position.copy(point);
      objectMarker.visible = true;
    } else {
      const useVertex = $('vertex-toggle').checked || event.shiftKey;
      hoi.pendingTarget = useVertex ? { vertex: nearestOf([hit.face.a, hit.face.b, hit.face.c], meshes.body, point) }
        : { joint: clip.joint_names[nearestOf([...Array(clip.joint_names.length).keys()], meshes.joints, point)] };
      pickInfo.target = hoi.pendingTarget;
      targetMarker.position.copy(point);
      targetMarker.visible = true;
    }
  }
  hoi.lastPick = pickInfo;
  setStatus(`picked ${describePick(pickInfo)}`);
  showPending();
  render();
}
canvas.addEventListener('click', pick);

function nearestOf(indices, positions, point) {
  let best = indices[0], bestD = Infinity;
  for (const i of indices) {
    const d = (positions[3 * i] - point.x) ** 2 + (positions[3 * i + 1] - point.y) ** 2
      + (positions[3 * i + 2] - point.z) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

const fmt = (v) => v.map((x) => x.toFixed(3)).join(', ');
function describeTarget(target) {
  if (!target) return '-';
  if ('joint' in target) return `joint ${target.joint}`;
  if ('vertex' in target) return `vertex ${target.vertex}`;
  return `pixel (${target.image.map((x) => x.toFixed(1)).join(', ')})`;
}
function describePick(p) {
  return p.mode === 'object' ? `object point (${fmt(p.objectPoint)}) m` : describeTarget(p.target);
}
function showPending() {
  $('pending-object').textContent = hoi.pendingObject
    ? `object: (${fmt(hoi.pendingObject.point)}) from frame ${hoi.pendingObject.frame}` : 'object: -';
  $('pending-target').textContent = `target: ${describeTarget(hoi.pendingTarget)}`;
}

// --- pairs --------------------------------------------------------------------------------
function markDirty() { hoi.dirty = true; setStatus('unsaved changes'); }

function addPair() {
  if (!hoi.pendingObject) return setStatus('pick an object point first (mode "object point", click the object)', true);
  if (!hoi.pendingTarget) return setStatus('pick a body joint/vertex or an image point first', true);
  const a = parseInt($('frame-from').value, 10), b = parseInt($('frame-to').value, 10);
  if (!(Number.isInteger(a) && Number.isInteger(b)) || a < 0 || b < a || b >= clip.num_frames) {
    return setStatus(`frames must satisfy 0 <= from <= to <= ${clip.num_frames - 1}`, true);
  }
  const ids = new Set(hoi.annotations.pairs.map((p) => p.id));
  let n = hoi.annotations.pairs.length + 1;
  while (ids.has(`p${n}`)) n++;
  hoi.annotations.pairs.push({ id: `p${n}`, frames: [a, b], object_point: hoi.pendingObject.point,
    target: hoi.pendingTarget });
  hoi.pendingTarget = null;  // the object point often pairs with several targets; the target rarely repeats
  targetMarker.visible = false;
  showPending();
  showPairs();
  markDirty();
  drawPairs();
  render();
}

function showPairs() {
  const list = $('pairs');
  list.replaceChildren();
  for (const pair of hoi.annotations.pairs) {
    const li = document.createElement('li');
    li.dataset.id = pair.id;
    const text = document.createElement('span');
    text.textContent = `${pair.id} [${pair.frames[0]}-${pair.frames[1]}] -> ${describeTarget(pair.target)}`;
    const del = document.createElement('button');
    del.textContent = 'delete';
    del.className = 'delete-pair';
    del.addEventListener('click', () => {
      hoi.annotations.pairs = hoi.annotations.pairs.filter((p) => p !== pair);
      showPairs();
      markDirty();
      drawPairs();
      render();
    });
    li.append(text, del);
    list.append(li);
  }
}

// Lines from each 3D pair's object point to its body point, for the pairs that cover the shown frame.
function drawPairs() {
  const points = [];
  if (meshes && meshes.pose && meshes.joints && hoi.annotations) {
    for (const pair of hoi.annotations.pairs) {
      if (hoi.frame < pair.frames[0] || hoi.frame > pair.frames[1] || 'image' in pair.target) continue;
      const p = new THREE.Vector3(...pair.object_point).applyMatrix4(meshes.pose);
      const source = 'joint' in pair.target ? meshes.joints : meshes.body;
      const i = 'joint' in pair.target ? clip.joint_names.indexOf(pair.target.joint) : pair.target.vertex;
      if (!source || i < 0 || 3 * i + 2 >= source.length) continue;
      points.push(p.x, p.y, p.z, source[3 * i], source[3 * i + 1], source[3 * i + 2]);
    }
  }
  pairLines.geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(points), 3));
  pairLines.geometry.computeBoundingSphere();  // else the first (empty) one culls the lines for good
  pairLines.visible = points.length > 0;
}

function showObjectSettings() {
  $('object-static').checked = hoi.annotations.object_static;
  $('object-scale').value = hoi.annotations.object_scale ?? '';
}

// --- save and re-solve --------------------------------------------------------------------
async function save() {
  const scaleText = $('object-scale').value.trim();
  hoi.annotations.object_static = $('object-static').checked;
  hoi.annotations.object_scale = scaleText === '' ? null : Number(scaleText);
  try {
    hoi.annotations = await postJson('/api/annotations', hoi.annotations);
    hoi.dirty = false;
    showPairs();
    showObjectSettings();
    setStatus(`saved ${hoi.annotations.pairs.length} pair(s)`);
    return true;
  } catch (err) {
    setStatus(`not saved: ${err.message}`, true);
    return false;
  }
}

async function resolve() {
  const button = $('resolve');
  button.disabled = true;
  try {
    if (!(await save())) return;
    setStatus('re-solving ...');
    const started = performance.now();
    const result = await postJson('/api/resolve');
    hoi.lastResolve = result;
    const lines = [`re-solved in ${Number(result.seconds).toFixed(2)} s`
      + ` (page waited ${((performance.now() - started) / 1000).toFixed(2)} s)`];
    for (const p of result.pairs || []) lines.push(`  ${p.id}: residual ${(1000 * p.residual_m).toFixed(1)} mm`);
    for (const w of result.warnings || []) lines.push(`  warning: ${w}`);
    $('resolve-result').textContent = lines.join('\n');
    setStatus('re-solved; showing the new solution');
    await setFrame(hoi.frame);  // the server now serves the new meshes
  } catch (err) {
    setStatus(`re-solve failed: ${err.message}`, true);
  } finally {
    button.disabled = false;
  }
}

// --- controls -----------------------------------------------------------------------------
function wireControls() {
  const frameInput = $('frame');
  frameInput.max = String(clip.num_frames - 1);
  frameInput.addEventListener('input', () => setFrame(Number(frameInput.value)).catch(showError));
  for (const id of ['frame-from', 'frame-to']) $(id).max = String(clip.num_frames - 1);
  for (const radio of document.querySelectorAll('input[name=mode]')) {
    radio.addEventListener('change', () => { if (radio.checked) hoi.mode = radio.value; });
  }
  $('side-view').addEventListener('change', () => { hoi.sideView = $('side-view').checked; render(); });
  $('from-current').addEventListener('click', () => { $('frame-from').value = String(hoi.frame); });
  $('to-current').addEventListener('click', () => { $('frame-to').value = String(hoi.frame); });
  $('add-pair').addEventListener('click', addPair);
  $('object-static').addEventListener('change', markDirty);
  $('object-scale').addEventListener('input', markDirty);
  $('save').addEventListener('click', save);
  $('resolve').addEventListener('click', resolve);
  window.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.type !== 'range') return;
    if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') {
      ev.preventDefault();
      setFrame(hoi.frame + (ev.key === 'ArrowLeft' ? -1 : 1)).catch(showError);
    }
  });
  window.addEventListener('beforeunload', (ev) => { if (hoi.dirty) ev.preventDefault(); });
}

function showError(err) { setStatus(String(err.message || err), true); }

async function main() {
  clip = await api('/api/clip');
  const bodyGeometry = bodyMesh.geometry;
  bodyGeometry.setIndex(new THREE.BufferAttribute(new Uint32Array(fromBase64(clip.body_faces, Int32Array).buffer), 1));
  if (clip.object_faces) {
    objectMesh.geometry.setIndex(
      new THREE.BufferAttribute(new Uint32Array(fromBase64(clip.object_faces, Int32Array).buffer), 1));
  } else {
    $('mode-object').disabled = true;
  }
  jointMeshes = new THREE.InstancedMesh(new THREE.SphereGeometry(0.015, 10, 6),
    new THREE.MeshBasicMaterial({ color: 0xff3355 }), clip.joint_names.length);
  root.add(jointMeshes);
  setProjection(clip.camera, clip.image_size[0], clip.image_size[1]);
  hoi.clip = { num_frames: clip.num_frames, image_size: clip.image_size, joint_names: clip.joint_names };
  hoi.annotations = await api('/api/annotations');
  showPairs();
  showObjectSettings();
  wireControls();
  layout();
  await setFrame(0);
  setStatus(`${clip.num_frames} frames at ${clip.fps} fps` + (clip.object_id ? `, object ${clip.object_id}` : ', no object'));
  hoi.ready = true;
}

hoi.setFrame = (t) => setFrame(t);
hoi.render = render;
main().catch((err) => { showError(err); hoi.failed = String(err.message || err); });
